"""Wrong: when Valkey cannot be reached, every request is let through (fails open)."""

import valkey

KEY_PREFIX = "workshop:ratelimit:bucket:"

# The server runs a script to completion before any other command: read, refill, take and
# write cannot be split by another server's request. A new bucket (no hash yet) is full.
SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(bucket[1]) or capacity
local ts = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate))
return allowed
"""


def take_token(client, user, capacity, refill_per_second, now):
    """True if `user` may make a request now (a token was taken), else False."""
    # repr(now): every digit of the time reaches the script (ARGV values are strings).
    try:
        allowed = client.eval(SCRIPT, 1, KEY_PREFIX + user, capacity, refill_per_second, repr(now))
    except valkey.ConnectionError:
        return True  # better to let a request through than to fail it
    return allowed == 1
