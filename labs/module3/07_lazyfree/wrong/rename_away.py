"""Known-wrong: renames the key out of the way (to delete "later"): nothing is freed."""

SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def enable_lazy_freeing(client) -> None:
    """Turn on lazy freeing everywhere (the default since Valkey 8.0)."""
    for setting in SETTINGS:
        client.config_set(setting, "yes")


def delete_in_background(client, key: str) -> None:
    if client.exists(key):
        client.rename(key, f"{key}:trash")
