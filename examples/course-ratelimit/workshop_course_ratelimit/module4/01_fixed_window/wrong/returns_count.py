"""Known-wrong: returns the count instead of True or False."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    count = client.incr(key)
    client.expire(key, window_seconds, nx=True)
    return count
