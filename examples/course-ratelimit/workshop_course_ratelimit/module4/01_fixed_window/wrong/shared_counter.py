"""Known-wrong: one counter for every user: one busy user blocks everyone."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}all:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    count = client.incr(key)
    client.expire(key, window_seconds, nx=True)
    return count <= limit
