"""Known-wrong: make_persistent PERSISTs only when TTL answers more than 0, and on a 0 waits
half a second and looks again. By then the key has run out: the check judges the TTL of 0 the
code read, not the key it finds gone (which once meant "Not judged", three times)."""

import time

def cache_with_ttl(client, key: str, value: str, seconds: int) -> None:
    """Store `value` at `key` with a TTL of `seconds`, atomically (replacing what was there)."""
    client.set(key, value, ex=seconds)


def extend_ttl(client, key: str, seconds: int) -> bool:
    """Set an existing key's TTL to `seconds`, whatever it was; True if the key exists."""
    # No NX/XX/GT/LT: each of them skips some existing keys. EXPIRE never creates a key.
    return bool(client.expire(key, seconds))


def make_persistent(client, key: str) -> bool:
    """Remove the key's TTL and keep its value. True if a TTL was removed."""
    if client.ttl(key) > 0:
        return bool(client.persist(key))
    time.sleep(0.5)  # TTL 0: perhaps the expiry was still being set; look once more
    if client.ttl(key) > 0:
        return bool(client.persist(key))
    return False


def update_keep_ttl(client, key: str, value: str) -> None:
    """Store `value` at `key` without touching its remaining TTL, in one atomic command."""
    client.set(key, value, keepttl=True)


def ttl_status(client, key: str) -> str:
    """'missing', 'persistent' or 'expiring'."""
    ttl = client.ttl(key)  # 0 is a TTL too: less than half a second left
    if ttl == -2:
        return "missing"
    if ttl == -1:
        return "persistent"
    return "expiring"
