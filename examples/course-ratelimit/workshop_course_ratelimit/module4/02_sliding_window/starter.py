"""Step 02 · Sliding window

Allow each user at most `limit` requests in any `window_seconds` seconds: a request made at
time t counts while now - t < window_seconds. `client` is a valkey-py client
(decode_responses=True); `now` is the time of the request in seconds, chosen by the checks.

Check your work with:  workshop check module4 sliding-window
"""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user: str, limit: int, window_seconds: int, now: float) -> bool:
    """True if this request of `user` is allowed, else False.

    Keep the user's requests in the sorted set KEY_PREFIX + user, each a member of its own
    (two requests in the same instant are two requests) scored by its time. Drop the ones
    that no longer count, then count. A refused request is not recorded. Two servers may
    handle the same user at once: never let more than `limit` through. The sorted set
    expires `window_seconds` after the last allowed request.
    """
    # TODO: in one MULTI/EXEC: ZREMRANGEBYSCORE, ZADD, ZCARD, EXPIRE; take the request
    # back out (ZREM) when it is over the limit.
    raise NotImplementedError
