"""Step 01 · Fixed window

Allow each user at most `limit` requests per window of `window_seconds` seconds. `client` is
a valkey-py client (decode_responses=True); `now` is the time of the request in seconds
(like time.time()), passed in so the checks can choose it.

Check your work with:  workshop check module4 fixed-window
"""

KEY_PREFIX = "workshop:ratelimit:fixed:"


def window_key(user: str, window_seconds: int, now: float) -> str:
    """The counter of `user` for the window holding `now`: KEY_PREFIX + "user:N", where N is
    the window's number, int(now // window_seconds)."""
    return f"{KEY_PREFIX}{user}:{int(now // window_seconds)}"


def allow_request(client, user: str, limit: int, window_seconds: int, now: float) -> bool:
    """True if this request of `user` is within `limit` for the current window, else False.

    Count the request in the window's counter, atomically (two servers may count the same
    user at once). The counter expires `window_seconds` after the window's first request, and
    later requests in the window do not push that expiry out.
    """
    # TODO: INCR the window's counter; give it its TTL once (EXPIRE ... NX).
    raise NotImplementedError
