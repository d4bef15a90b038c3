"""Known-wrong: EXPIRE ... NX, as in step 01: the set expires a window after its first
request and takes the later requests with it."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds, nx=True)
    _, _, count, _ = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
