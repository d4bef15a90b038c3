"""Known-wrong (a tester's answer): extend_ttl calls pexpire(key, seconds): PEXPIRE counts
milliseconds, so the key is left 0.3 s instead of 300 s."""

def cache_with_ttl(client, key, value, seconds):
    client.set(key, value, ex=seconds)
def extend_ttl(client, key, seconds):
    return bool(client.pexpire(key, seconds))
def make_persistent(client, key):
    return bool(client.persist(key))
def update_keep_ttl(client, key, value):
    client.set(key, value, keepttl=True)
def ttl_status(client, key):
    t = client.ttl(key)
    if t == -2:
        return "missing"
    if t == -1:
        return "persistent"
    return "expiring"
