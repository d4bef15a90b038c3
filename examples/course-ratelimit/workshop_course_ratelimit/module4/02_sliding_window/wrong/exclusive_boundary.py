"""Known-wrong: removes only requests older than the window ("(" bound), so one made exactly
window_seconds ago still counts."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", f"({now - window_seconds}")
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds)
    _, _, count, _ = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
