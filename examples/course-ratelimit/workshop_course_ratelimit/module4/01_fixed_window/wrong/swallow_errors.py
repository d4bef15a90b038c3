"""Wrong: a failed EXPIRE is ignored, so a lost connection leaves a counter that never expires."""

import valkey

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user: str, window_seconds: int, now: float) -> str:
    """The counter of `user` for the window holding `now`."""
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user: str, limit: int, window_seconds: int, now: float) -> bool:
    """True if this request of `user` is within `limit` for the current window."""
    key = window_key(user, window_seconds, now)
    count = client.incr(key)  # atomic: two servers counting at once never lose a request
    try:
        client.expire(key, window_seconds, nx=True)
    except valkey.ConnectionError:
        pass  # the count is what matters, isn't it?
    return count <= limit
