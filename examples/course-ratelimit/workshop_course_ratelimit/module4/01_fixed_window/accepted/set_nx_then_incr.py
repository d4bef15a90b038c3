"""Accepted: create the counter with its TTL (SET NX EX), then INCR it."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    client.set(key, 0, ex=window_seconds, nx=True)
    return client.incr(key) <= limit
