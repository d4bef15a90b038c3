"""Known-wrong (a tester's answer): deletes a big value 1000 elements at a time (HKEYS, then
HDEL), then the key."""
def delete_in_background(client, key):
    t = client.type(key)
    if t == "hash":
        while True:
            fields = client.hkeys(key)[:1000]
            if not fields: break
            client.hdel(key, *fields)
    elif t == "set":
        while client.spop(key, 1000): pass
    elif t == "list":
        while client.llen(key): client.ltrim(key, 1000, -1)
    elif t == "zset":
        while client.zcard(key): client.zremrangebyrank(key, 0, 999)
    client.delete(key)
SETTINGS = ["lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush"]
def enable_lazy_freeing(client):
    for s in SETTINGS: client.config_set(s, "yes")
