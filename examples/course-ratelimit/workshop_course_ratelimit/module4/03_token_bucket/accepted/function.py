"""Accepted: a server-side function (FUNCTION LOAD once, then FCALL)."""

KEY_PREFIX = "workshop:ratelimit:bucket:"

LIBRARY = """#!lua name=workshop_ratelimit
local function take(keys, args)
    local capacity, rate, now = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
    local bucket = redis.call('HMGET', keys[1], 'tokens', 'ts')
    local tokens = tonumber(bucket[1]) or capacity
    local ts = tonumber(bucket[2]) or now
    tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
    local allowed = 0
    if tokens >= 1 then
        tokens = tokens - 1
        allowed = 1
    end
    redis.call('HSET', keys[1], 'tokens', tostring(tokens), 'ts', tostring(now))
    redis.call('EXPIRE', keys[1], math.ceil(capacity / rate))
    return allowed
end
redis.register_function('workshop_take_token', take)
"""


def take_token(client, user, capacity, refill_per_second, now):
    args = (KEY_PREFIX + user, capacity, refill_per_second, repr(now))
    try:
        reply = client.fcall("workshop_take_token", 1, *args)
    except Exception as error:  # the library is not loaded yet on this server
        if "function not found" not in str(error).lower():
            raise
        client.function_load(LIBRARY, replace=True)
        reply = client.fcall("workshop_take_token", 1, *args)
    return reply == 1
