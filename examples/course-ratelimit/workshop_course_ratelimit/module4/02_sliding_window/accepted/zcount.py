"""Accepted: count the window with ZCOUNT over (now - window, +inf) in the transaction."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    pipe = client.pipeline(transaction=True)
    pipe.zadd(key, {member: now})
    pipe.zcount(key, f"({now - window_seconds}", "+inf")
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)
    pipe.expire(key, window_seconds)
    _, count, _, _ = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
