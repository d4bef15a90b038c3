"""Known-wrong: counts in one round trip and adds in the next: two servers both see room
for one more and both add."""

import uuid

KEY_PREFIX = "workshop:ratelimit:sliding:"


def allow_request(client, user, limit, window_seconds, now):
    key = KEY_PREFIX + user
    client.zremrangebyscore(key, "-inf", now - window_seconds)
    if client.zcard(key) >= limit:
        return False
    client.zadd(key, {f"{now}:{uuid.uuid4().hex}": now})
    client.expire(key, window_seconds)
    return True
