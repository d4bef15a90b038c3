"""Step 03 · Token bucket

Each user has a bucket of `capacity` tokens that refills at `refill_per_second` tokens per
second (fractions count), never above `capacity`. A request takes one token; with less than
one token in the bucket it is refused and takes nothing. `client` is a valkey-py client
(decode_responses=True); `now` is the time of the request in seconds, chosen by the checks.

Check your work with:  workshop check module4 token-bucket
"""

KEY_PREFIX = "workshop:ratelimit:bucket:"

# The bucket is the hash KEY_PREFIX + user with the fields tokens and ts (the time of its
# last request). A user without a hash has a full bucket. The decision must be atomic and
# run on the server in one round trip: a Lua script (client.eval) or a function (FCALL).
SCRIPT = """
-- KEYS[1]: the bucket; ARGV[1]: capacity, ARGV[2]: refill per second, ARGV[3]: now
-- TODO: HMGET the tokens and ts; refill by (now - ts) * rate, capped at the capacity;
-- take a token if there is one; HSET tokens and ts; EXPIRE the bucket once it would be
-- full again (math.ceil(capacity / rate) seconds); return 1 (allowed) or 0.
return redis.error_reply('not written yet')
"""


def take_token(client, user: str, capacity: int, refill_per_second: float, now: float) -> bool:
    """True if `user` may make a request now (a token was taken), else False."""
    # TODO: run SCRIPT with client.eval(SCRIPT, 1, key, capacity, refill_per_second, repr(now))
    raise NotImplementedError
