"""Known-wrong: never removes old requests, so a user is refused forever once at the limit
(until the whole set expires)."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"
    pipe = client.pipeline(transaction=True)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds)
    _, count, _ = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
