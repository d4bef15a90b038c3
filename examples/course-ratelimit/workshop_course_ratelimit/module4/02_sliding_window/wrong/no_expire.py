"""Known-wrong: the set never expires: every user who ever called leaves a key behind."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    _, _, count = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
