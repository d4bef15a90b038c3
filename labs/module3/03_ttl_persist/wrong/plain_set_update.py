"""Known-wrong: updates with a plain SET, so the TTL is lost."""


def cache_with_ttl(client, key: str, value: str, seconds: int) -> None:
    """Store `value` at `key`, expiring after `seconds`, atomically."""
    client.set(key, value, ex=seconds)


def extend_ttl(client, key: str, seconds: int) -> bool:
    """Reset an existing key's TTL to `seconds`; True if the key exists."""
    return bool(client.expire(key, seconds))  # EXPIRE never creates a key


def make_persistent(client, key: str) -> bool:
    """Remove the key's TTL. True if a TTL was removed."""
    return bool(client.persist(key))


def update_keep_ttl(client, key: str, value: str) -> None:
    """Change the value stored at `key` without touching its remaining TTL."""
    client.set(key, value)


def ttl_status(client, key: str) -> str:
    """'missing', 'persistent' or 'expiring'."""
    ttl = client.ttl(key)
    if ttl == -2:
        return "missing"
    if ttl == -1:
        return "persistent"
    return "expiring"
