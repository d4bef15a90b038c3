"""Accepted: INCR and EXPIRE NX in one MULTI/EXEC transaction (one round trip)."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    pipe = client.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window_seconds, nx=True)
    count, _ = pipe.execute()
    return count <= limit
