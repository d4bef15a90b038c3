"""Known-wrong: reads the count and writes it back plus one: two servers lose requests."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    count = int(client.get(key) or 0) + 1
    client.set(key, count, keepttl=True)
    if count == 1:
        client.expire(key, window_seconds)
    return count <= limit
