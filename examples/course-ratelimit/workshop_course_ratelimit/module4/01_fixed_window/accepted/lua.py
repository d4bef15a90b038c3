"""Accepted: INCR and EXPIRE NX in one Lua script."""

KEY_PREFIX = "workshop:ratelimit:fixed:"

SCRIPT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return count
"""


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    return client.eval(SCRIPT, 1, key, window_seconds) <= limit
