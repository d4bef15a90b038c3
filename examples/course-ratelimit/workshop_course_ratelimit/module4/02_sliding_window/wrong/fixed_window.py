"""Known-wrong: step 01's fixed window: up to twice the limit across a window boundary."""

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"
    count = client.incr(key)
    client.expire(key, window_seconds, nx=True)
    return count <= limit
