"""Accepted: every lazyfree-lazy-* setting the server reports, found with CONFIG GET, and
replica-lazy-flush as well (harmless on a server that is no replica)."""


def delete_in_background(client, key: str) -> None:
    removed = client.unlink(key)
    if not removed:
        return  # nothing to do for a missing key


def enable_lazy_freeing(client) -> None:
    names = [*client.config_get("lazyfree-lazy-*"), "replica-lazy-flush"]
    for name in names:
        client.config_set(name, "yes")
