"""Known-wrong: EXPIRE NX before INCR: on the first request the key does not exist yet, so
EXPIRE does nothing (it never creates a key) and the counter never expires."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    client.expire(key, window_seconds, nx=True)
    return client.incr(key) <= limit
