"""Known-wrong (a tester's answer): turns lazyfree-lazy-user-del on, DELs, and turns it
off again: a server-wide change while it runs."""
def delete_in_background(client, key):
    client.config_set("lazyfree-lazy-user-del", "yes"); client.delete(key); client.config_set("lazyfree-lazy-user-del", "no")
SETTINGS = ["lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush"]
def enable_lazy_freeing(client):
    for s in SETTINGS: client.config_set(s, "yes")
