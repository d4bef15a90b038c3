"""Known-wrong: asks for the TTL, then sets one if there is none (racy, one more round trip)."""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user, window_seconds, now):
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user, limit, window_seconds, now):
    key = window_key(user, window_seconds, now)
    count = client.incr(key)
    if client.ttl(key) == -1:
        client.expire(key, window_seconds)
    return count <= limit
