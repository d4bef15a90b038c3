"""Step 03 · TTL and PERSIST

Five small functions around key expiry. `client` is a valkey-py client (decode_responses=True).

Check your work with:  workshop check module3 ttl-persist
"""


def cache_with_ttl(client, key: str, value: str, seconds: int) -> None:
    """Store `value` at `key`, expiring after `seconds`, atomically (no moment without TTL)."""
    # TODO: one command that sets the value and the expiry together.
    raise NotImplementedError


def extend_ttl(client, key: str, seconds: int) -> bool:
    """Reset an existing key's TTL to `seconds`; True if the key exists.

    A missing key stays missing (return False, create nothing).
    """
    # TODO
    raise NotImplementedError


def make_persistent(client, key: str) -> bool:
    """Remove the key's TTL. True if a TTL was removed; False if it had none or is missing."""
    # TODO
    raise NotImplementedError


def update_keep_ttl(client, key: str, value: str) -> None:
    """Change the value stored at `key` without touching its remaining TTL."""
    # TODO: a plain SET would throw the TTL away.
    raise NotImplementedError


def ttl_status(client, key: str) -> str:
    """'missing', 'persistent' (no expiry) or 'expiring' (has a TTL)."""
    # TODO: TTL answers -2 for a missing key and -1 for a key without expiry.
    raise NotImplementedError
