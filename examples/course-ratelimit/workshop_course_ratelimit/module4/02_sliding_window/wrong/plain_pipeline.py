"""Known-wrong: a pipeline without MULTI/EXEC: another server's commands can run between
its ZADD and its ZCARD."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    pipe = client.pipeline(transaction=False)
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds)
    _, _, count, _ = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
