"""Known-wrong: a 2 ms expiry, then EXISTS until the key is gone. The look that finds it
expired frees the value, in the main thread, as lazyfree-lazy-expire says; the key count has
dropped by the time the check counts, so only the commands sent show the fault."""

import time

SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def enable_lazy_freeing(client) -> None:
    for setting in SETTINGS:
        client.config_set(setting, "yes")


def delete_in_background(client, key: str) -> None:
    client.pexpire(key, 2)
    while client.exists(key):
        time.sleep(0.001)
