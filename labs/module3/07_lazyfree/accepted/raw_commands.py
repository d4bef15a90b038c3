"""Accepted: raw UNLINK, and one CONFIG SET with five pairs."""


def delete_in_background(client, key):
    client.execute_command("UNLINK", key)


def enable_lazy_freeing(client):
    names = ["eviction", "expire", "server-del", "user-del", "user-flush"]
    pairs = []
    for name in names:
        pairs += [f"lazyfree-lazy-{name}", "yes"]
    client.execute_command("CONFIG", "SET", *pairs)
