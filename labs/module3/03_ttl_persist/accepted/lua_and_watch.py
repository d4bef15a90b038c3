"""Accepted: a Lua script (atomic on the server) and WATCH with MULTI/EXEC."""

from valkey.exceptions import WatchError

KEEP_PTTL = """
local left = redis.call('PTTL', KEYS[1])
if left > 0 then
    return redis.call('SET', KEYS[1], ARGV[1], 'PX', left)
end
return redis.call('SET', KEYS[1], ARGV[1])
"""


def cache_with_ttl(client, key, value, seconds):
    client.set(key, value, ex=seconds)


def extend_ttl(client, key, seconds):
    return bool(client.expire(key, seconds))


def make_persistent(client, key):
    with client.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                had_ttl = pipe.ttl(key) >= 0
                pipe.multi()
                pipe.persist(key)
                pipe.execute()
                return had_ttl
            except WatchError:  # the key changed between WATCH and EXEC: try again
                continue


def update_keep_ttl(client, key, value):
    # The script runs on the server as one step: nothing happens between PTTL and SET.
    client.eval(KEEP_PTTL, 1, key, value)


def ttl_status(client, key):
    ttl = client.ttl(key)
    return "missing" if ttl == -2 else "persistent" if ttl == -1 else "expiring"
