"""Demo 02: a request log in a sorted set: ZADD, ZREMRANGEBYSCORE's inclusive bound, ZCARD,
and ZADD of a member that is there already."""

KEY = "workshop:demo:ratelimit:sliding:alice"


def run(demo):
    client = demo.client
    demo.tidy(KEY)
    now = 1000.0

    demo.heading("1. Three requests, scored by their time")
    client.zadd(KEY, {"r1": now - 60, "r2": now - 30, "r3": now})
    demo.show("ZCARD", client.zcard(KEY))
    demo.show("ZRANGE ... WITHSCORES", client.zrange(KEY, 0, -1, withscores=True))

    demo.heading("2. Drop what is one window (60 s) old or older")
    demo.show(
        "ZREMRANGEBYSCORE key -inf (940 removed",
        client.zremrangebyscore(KEY, "-inf", f"({now - 60}"),
    )
    demo.show(
        "ZREMRANGEBYSCORE key -inf 940 removed", client.zremrangebyscore(KEY, "-inf", now - 60)
    )
    demo.show("left", client.zrange(KEY, 0, -1))

    demo.heading("3. A member that is there already is updated, not added")
    demo.show("ZADD r3 again answered", client.zadd(KEY, {"r3": now + 1}))
    demo.show("ZCARD", client.zcard(KEY))

    demo.heading("4. Add and count in one MULTI/EXEC")
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(KEY, "-inf", now + 5 - 60)
    pipe.zadd(KEY, {"r4": now + 5})
    pipe.zcard(KEY)
    pipe.expire(KEY, 60)
    demo.show("EXEC answered", pipe.execute())
    demo.say(
        "Within one **MULTI/EXEC** no other client's command runs between the count and the add."
    )
    demo.tidy(KEY)
