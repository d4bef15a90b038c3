"""Known-wrong (a tester's answer): gives the key a 1 ms expiry instead of removing it."""
def delete_in_background(client, key):
    client.pexpire(key, 1)
SETTINGS = ["lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush"]
def enable_lazy_freeing(client):
    for s in SETTINGS: client.config_set(s, "yes")
