"""Accepted: UNLINK and the five settings, each sent through a pipeline."""

SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def delete_in_background(client, key):
    client.pipeline(transaction=False).unlink(key).execute()


def enable_lazy_freeing(client):
    pipe = client.pipeline()
    for setting in SETTINGS:
        pipe.config_set(setting, "yes")
    pipe.execute()
