"""Known-wrong: delete_in_background only deletes keys it can encode as
ASCII (key.isascii()), so a key with an accent stays."""

SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def delete_in_background(client, key: str) -> None:
    """Remove `key` at once; its memory is freed by a background thread."""
    if key.isascii():
        client.unlink(key)


def enable_lazy_freeing(client) -> None:
    """Turn on lazy freeing everywhere (the default since Valkey 8.0)."""
    for setting in SETTINGS:
        client.config_set(setting, "yes")
