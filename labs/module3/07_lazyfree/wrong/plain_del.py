"""Known-wrong: a plain DEL, which blocks while it frees the value."""

SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def delete_in_background(client, key: str) -> None:
    """Remove `key` at once; its memory is freed by a background thread."""
    client.delete(key)


def enable_lazy_freeing(client) -> None:
    """Turn on lazy freeing everywhere (the default since Valkey 8.0)."""
    for setting in SETTINGS:
        client.config_set(setting, "yes")
