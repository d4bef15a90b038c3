"""Wrong: a failed ZREM is ignored, so the refused request keeps counting."""

import uuid

import valkey

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user: str, limit: int, window_seconds: int, now: float) -> bool:
    """True if this request of `user` is allowed, else False."""
    key = KEY_PREFIX + user
    member = f"{now}:{uuid.uuid4().hex}"  # unique: two requests in one instant are two
    pipe = client.pipeline(transaction=True)  # MULTI/EXEC: no other command runs in between
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)  # t <= now - window: gone
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds)
    _, _, count, _ = pipe.execute()
    if count > limit:
        try:
            client.zrem(key, member)
        except valkey.ConnectionError:
            pass  # refused anyway
        return False
    return True
