"""Step 03 · TTL and PERSIST

Five small functions around key expiry. `client` is a valkey-py client (decode_responses=True).

Check your work with:  workshop check module3 ttl-persist
"""


def cache_with_ttl(client, key: str, value: str, seconds: int) -> None:
    """Store `value` at `key` with a TTL of `seconds`, atomically.

    Whatever the key held before (a value, a TTL, or no TTL) is replaced. There must be no
    moment in which the key exists without a TTL.
    """
    # TODO: one command that sets the value and the expiry together.
    raise NotImplementedError


def extend_ttl(client, key: str, seconds: int) -> bool:
    """Set an existing key's TTL to `seconds`, whatever it was; True if the key exists.

    "Whatever it was": a longer TTL is lowered, a shorter one raised, and a key without a TTL
    gets one. The value does not change. A missing key stays missing: return False and create
    nothing.
    """
    # TODO
    raise NotImplementedError


def make_persistent(client, key: str) -> bool:
    """Remove the key's TTL and keep its value. True if a TTL was removed.

    Any TTL counts, one with under a second left too (TTL answers 0 for it).

    False for a key that had no TTL (it stays as it is) and for a missing key (nothing is
    created).
    """
    # TODO
    raise NotImplementedError


def update_keep_ttl(client, key: str, value: str) -> None:
    """Replace the value at `key` with `value` (all of it) without touching its remaining
    TTL, in one atomic command.

    A key with a TTL keeps the time it had left; a key without a TTL stays without one; a
    missing key is created, without a TTL (there is none to keep).
    """
    # TODO: a plain SET would throw the TTL away.
    raise NotImplementedError


def ttl_status(client, key: str) -> str:
    """'missing', 'persistent' (exists, no expiry) or 'expiring' (exists, has a TTL).

    Any existing key counts, whatever its value (an empty string too), and a key with less
    than a second left is still 'expiring'.
    """
    # TODO: TTL answers -2 for a missing key and -1 for a key without expiry.
    raise NotImplementedError
