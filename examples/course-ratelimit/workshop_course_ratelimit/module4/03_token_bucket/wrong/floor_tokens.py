"""Known-wrong: rounds the tokens down on every request: the fraction refilled since the last
request is lost, and a slow rate never refills."""

KEY_PREFIX = "workshop:ratelimit:bucket:"

SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(bucket[1]) or capacity
local ts = tonumber(bucket[2]) or now
tokens = math.floor(math.min(capacity, tokens + math.max(0, now - ts) * rate))
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
    allowed = client.eval(SCRIPT, 1, KEY_PREFIX + user, capacity, refill_per_second, repr(now))
    return allowed == 1
