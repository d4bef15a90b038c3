"""Known-wrong: counts but never gives the counter a TTL (every window's key stays forever)."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    return client.incr(window_key(user, window_seconds, now)) <= limit
