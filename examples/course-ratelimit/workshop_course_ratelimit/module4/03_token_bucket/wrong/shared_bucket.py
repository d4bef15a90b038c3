"""Known-wrong: one bucket for every user: one busy user empties it for everyone."""

KEY_PREFIX = "workshop:ratelimit:bucket:"

SCRIPT = """
local capacity, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
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
    return client.eval(SCRIPT, 1, KEY_PREFIX + "all", capacity, refill_per_second, repr(now)) == 1
