"""Known-wrong: turns on only two of the five settings."""

SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-user-del",
)


def delete_in_background(client, key: str) -> None:
    """Remove `key` at once; its memory is freed by a background thread."""
    client.unlink(key)


def enable_lazy_freeing(client) -> None:
    """Turn on lazy freeing everywhere (the default since Valkey 8.0)."""
    for setting in SETTINGS:
        client.config_set(setting, "yes")
