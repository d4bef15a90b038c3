"""Accepted: SETEX, SET ... GET KEEPTTL, and EXISTS before TTL for the status."""


def cache_with_ttl(client, key, value, seconds):
    client.setex(key, seconds, value)


def extend_ttl(client, key, seconds):
    if client.expire(key, seconds):  # noqa: SIM103 - the style this accepted answer shows
        return True
    return False


def make_persistent(client, key):
    return client.persist(key) == 1


def update_keep_ttl(client, key, value):
    client.set(key, value, keepttl=True, get=True)  # the old value comes back; not needed here


def ttl_status(client, key):
    if not client.exists(key):
        return "missing"
    return "persistent" if client.ttl(key) == -1 else "expiring"
