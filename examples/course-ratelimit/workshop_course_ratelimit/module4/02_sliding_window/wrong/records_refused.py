"""Known-wrong: a refused request stays in the set, so a user who keeps trying is refused
long after their allowed requests have aged out."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)
    pipe.zadd(key, {f"{now}:{uuid.uuid4().hex}": now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds)
    _, _, count, _ = pipe.execute()
    return count <= limit
