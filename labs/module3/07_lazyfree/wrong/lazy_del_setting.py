"""Known-wrong: turns lazy DEL on for the whole server, then DELetes."""

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
    client.config_set("lazyfree-lazy-user-del", "yes")
    client.delete(key)
