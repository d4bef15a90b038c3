"""Known-wrong: deletes a hash piece by piece (HSCAN 1000 fields, HDEL them), so the server
works as long as all the pieces take and the key is half there meanwhile."""

SETTINGS = [
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
]


def delete_in_background(client, key):
    if client.type(key) == "hash":
        cursor = 0
        while True:
            cursor, fields = client.hscan(key, cursor, count=1000)
            if fields:
                client.hdel(key, *fields)
            if cursor == 0:
                break
    client.unlink(key)


def enable_lazy_freeing(client):
    for name in SETTINGS:
        client.config_set(name, "yes")
