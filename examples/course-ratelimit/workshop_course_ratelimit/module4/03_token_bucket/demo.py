"""Demo 03: a token bucket decided in one Lua script: a burst, a refusal, a refill, and what
becomes of a Lua number on its way back."""

KEY = "workshop:demo:ratelimit:bucket:alice"

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


def run(demo):
    client = demo.client
    demo.tidy(KEY)
    now = 1000.0

    demo.heading("1. A burst: capacity 3, 1 token per second")
    answers = [client.eval(SCRIPT, 1, KEY, 3, 1, repr(now)) for _ in range(4)]
    demo.show("four requests at once answered", answers)
    demo.show("the bucket", client.hgetall(KEY))

    demo.heading("2. Half a second later: half a token, still refused")
    demo.show("EVAL answered", client.eval(SCRIPT, 1, KEY, 3, 1, repr(now + 0.5)))
    demo.show("the bucket", client.hgetall(KEY))
    demo.show("one second later, EVAL answered", client.eval(SCRIPT, 1, KEY, 3, 1, repr(now + 1)))
    demo.show("TTL (full again after 3 s)", client.ttl(KEY))

    demo.heading("3. Lua numbers come back as integers")
    demo.show('EVAL "return 2.7" 0', client.eval("return 2.7", 0))
    demo.show('EVAL "return tostring(2.7)" 0', client.eval("return tostring(2.7)", 0))
    demo.show(
        "type() of a missing hash field inside a script",
        client.eval("return type(redis.call('HGET', KEYS[1], 'nothing'))", 1, KEY),
    )
    demo.say(
        "The server runs the script **to completion** before any other command: no other "
        "request can take the last token in between."
    )
    demo.tidy(KEY)
