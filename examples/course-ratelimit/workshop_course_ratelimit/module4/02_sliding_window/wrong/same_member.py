"""Known-wrong: the member is the time alone, so requests in the same instant are one."""

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    member = str(now)
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now - window_seconds)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, window_seconds)
    _, _, count, _ = pipe.execute()
    if count > limit:
        client.zrem(key, member)
        return False
    return True
