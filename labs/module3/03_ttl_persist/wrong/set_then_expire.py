"""Known-wrong: SET, then EXPIRE in a second round trip."""


def cache_with_ttl(client, key, value, seconds):
    client.set(key, value)
    client.expire(key, seconds)


def extend_ttl(client, key: str, seconds: int) -> bool:
    """Reset an existing key's TTL to `seconds`; True if the key exists."""
    return bool(client.expire(key, seconds))  # EXPIRE never creates a key


def make_persistent(client, key: str) -> bool:
    """Remove the key's TTL. True if a TTL was removed."""
    return bool(client.persist(key))


def update_keep_ttl(client, key: str, value: str) -> None:
    """Change the value stored at `key` without touching its remaining TTL."""
    client.set(key, value, keepttl=True)


def ttl_status(client, key: str) -> str:
    """'missing', 'persistent' or 'expiring'."""
    ttl = client.ttl(key)
    if ttl == -2:
        return "missing"
    if ttl == -1:
        return "persistent"
    return "expiring"
