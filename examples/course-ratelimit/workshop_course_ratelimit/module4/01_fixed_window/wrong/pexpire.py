"""Known-wrong: PEXPIRE counts milliseconds: the counter lives window_seconds ms."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    count = client.incr(key)
    client.pexpire(key, window_seconds, nx=True)
    return count <= limit
