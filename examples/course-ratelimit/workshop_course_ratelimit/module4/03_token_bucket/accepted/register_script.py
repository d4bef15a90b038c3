"""Accepted: a registered Script (EVALSHA, loaded once) that keeps the tokens in
thousandths, as integers."""

KEY_PREFIX = "workshop:ratelimit:bucket:"

SCRIPT = """
local capacity = tonumber(ARGV[1]) * 1000
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or capacity)
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts') or now)
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + math.floor(elapsed * rate * 1000 + 0.5))
local allowed = 0
if tokens >= 1000 then
    tokens = tokens - 1000
    allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) / rate))
return allowed
"""

_scripts = {}


def take_token(client, user, capacity, refill_per_second, now):
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(SCRIPT)
    return script(keys=[KEY_PREFIX + user], args=[capacity, refill_per_second, repr(now)]) == 1
