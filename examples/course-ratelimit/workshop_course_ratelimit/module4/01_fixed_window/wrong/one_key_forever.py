"""Known-wrong: one counter per user, not per window: a user over the limit stays blocked
until the key expires, even in the next window."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = f"{KEY_PREFIX}{user}"
    count = client.incr(key)
    client.expire(key, window_seconds, nx=True)
    return count <= limit
