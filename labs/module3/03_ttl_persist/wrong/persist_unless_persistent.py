"""Wrong: make_persistent returns False only for a key TTL calls persistent (-1); a missing key gets True."""


def cache_with_ttl(client, key: str, value: str, seconds: int) -> None:
    """Store `value` at `key` with a TTL of `seconds`, atomically (replacing what was there)."""
    client.set(key, value, ex=seconds)


def extend_ttl(client, key: str, seconds: int) -> bool:
    """Set an existing key's TTL to `seconds`, whatever it was; True if the key exists."""
    # No NX/XX/GT/LT: each of them skips some existing keys. EXPIRE never creates a key.
    return bool(client.expire(key, seconds))


def make_persistent(client, key: str) -> bool:
    """Remove the key's TTL and keep its value. True if a TTL was removed."""
    if client.ttl(key) == -1:
        return False  # already persistent
    client.persist(key)
    return True


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
