"""Accepted: SETEX, SET + EXPIRE inside MULTI/EXEC, PTTL and raw commands."""


def cache_with_ttl(client, key, value, seconds):
    with client.pipeline(transaction=True) as tx:
        tx.set(key, value)
        tx.expire(key, seconds)
        tx.execute()


def extend_ttl(client, key, seconds):
    return client.execute_command("EXPIRE", key, seconds) == 1


def make_persistent(client, key):
    return client.execute_command("PERSIST", key) == 1


def update_keep_ttl(client, key, value):
    client.execute_command("SET", key, value, "KEEPTTL")


def ttl_status(client, key):
    remaining = client.pttl(key)
    return {-2: "missing", -1: "persistent"}.get(remaining, "expiring")
