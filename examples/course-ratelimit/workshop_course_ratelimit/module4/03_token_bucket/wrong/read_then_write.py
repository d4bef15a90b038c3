"""Known-wrong: the arithmetic in Python between HMGET and HSET: two servers at once both
read one token left and both take it."""

KEY_PREFIX = "workshop:ratelimit:bucket:"


def take_token(client, user, capacity, refill_per_second, now):
    key = KEY_PREFIX + user
    tokens, ts = client.hmget(key, "tokens", "ts")
    tokens = capacity if tokens is None else float(tokens)
    ts = now if ts is None else float(ts)
    tokens = min(capacity, tokens + max(0.0, now - ts) * refill_per_second)
    allowed = tokens >= 1
    if allowed:
        tokens -= 1
    client.hset(key, mapping={"tokens": tokens, "ts": now})
    client.expire(key, int(-(-capacity // refill_per_second)))
    return allowed
