"""Known-wrong: assumes the settings go together and stops when lazy DEL is already on."""

def delete_in_background(client, key: str) -> None:
    """Remove `key` at once; its memory is freed by a background thread."""
    client.unlink(key)


def enable_lazy_freeing(client) -> None:
    if client.config_get("lazyfree-lazy-user-del")["lazyfree-lazy-user-del"] == "yes":
        return  # "already on"
    for name in ("eviction", "expire", "server-del", "user-del", "user-flush"):
        client.config_set(f"lazyfree-lazy-{name}", "yes")
