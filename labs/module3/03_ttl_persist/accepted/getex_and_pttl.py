"""Accepted: PX in milliseconds, GETEX to extend, PTTL with match to name the state."""


def cache_with_ttl(client, key, value, seconds):
    client.set(key, value, px=seconds * 1000)


def extend_ttl(client, key, seconds):
    # GETEX sets the TTL and answers the value, or None for a missing key (never creates it).
    return client.getex(key, ex=seconds) is not None


def make_persistent(client, key):
    return client.persist(key)


def update_keep_ttl(client, key, value):
    client.set(key, value, keepttl=True)


def ttl_status(client, key):
    match client.pttl(key):
        case -2:
            return "missing"
        case -1:
            return "persistent"
        case _:
            return "expiring"
