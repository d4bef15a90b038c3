"""Accepted: trim, add, then count, one command each, with ZADD before the count: two
servers at once may refuse one request too many, never allow one."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    client.zremrangebyscore(key, "-inf", now - window_seconds)
    client.zadd(key, {member: now})
    client.expire(key, window_seconds)
    if client.zcard(key) > limit:
        client.zrem(key, member)
        return False
    return True
