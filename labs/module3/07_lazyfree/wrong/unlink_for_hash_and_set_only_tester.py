"""Known-wrong (a tester's answer): UNLINK for hashes and sets only, a blocking DEL for every
other type."""
def delete_in_background(client, key):
    if client.type(key) in ("hash", "set"):
        client.unlink(key)
    else:
        client.delete(key)
SETTINGS = ["lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush"]
def enable_lazy_freeing(client):
    for s in SETTINGS: client.config_set(s, "yes")
