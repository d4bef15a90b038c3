"""Accepted: an absolute expiry (EXAT), timedelta TTLs, PEXPIRE, and an if/elif chain."""

import time
from datetime import timedelta


def cache_with_ttl(client, key, value, seconds):
    client.set(key, value, exat=int(time.time()) + seconds)


def extend_ttl(client, key, seconds):
    return client.pexpire(key, timedelta(seconds=seconds)) == 1


def make_persistent(client, key):
    removed = client.persist(key)
    return bool(removed)


def update_keep_ttl(client, key, value):
    client.set(name=key, value=value, keepttl=True)


def ttl_status(client, key):
    ttl = client.ttl(key)
    if ttl < -1:
        return "missing"
    elif ttl < 0:
        return "persistent"
    else:
        return "expiring"
