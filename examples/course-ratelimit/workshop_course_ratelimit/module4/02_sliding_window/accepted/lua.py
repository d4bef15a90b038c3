"""Accepted: the whole decision in one Lua script (nothing to take back)."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"

SCRIPT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
    return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], window)
return 1
"""


def allow_request(client, user, limit, window_seconds, now):
    member = f"{now}:{uuid.uuid4().hex}"
    allowed = client.eval(SCRIPT, 1, KEY_PREFIX + user, repr(now), window_seconds, limit, member)
    return allowed == 1
