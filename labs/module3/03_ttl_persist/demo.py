"""Demo 03: TTLs on the live server: -1 against -2, PERSIST, SET losing the TTL, KEEPTTL."""

KEY = "workshop:demo:ttl:session"


def run(demo):
    client = demo.client
    demo.tidy(KEY)

    demo.heading("1. A value and its TTL in one command")
    client.setex(KEY, 300, "alice")
    demo.show("TTL", client.ttl(KEY))
    demo.show("TTL of a key that does not exist", client.ttl("workshop:demo:ttl:nothing-here"))

    demo.heading("2. EXPIRE resets the clock, PERSIST removes it")
    client.expire(KEY, 60)
    demo.show("TTL after EXPIRE 60", client.ttl(KEY))
    demo.show("PERSIST answered", client.persist(KEY))
    demo.show("TTL now (-1: exists, never expires)", client.ttl(KEY))
    demo.show("PERSIST again answered", client.persist(KEY))

    demo.heading("3. The pitfall: a plain SET throws the TTL away")
    client.set(KEY, "alice", ex=300)
    client.set(KEY, "alice, renamed")
    demo.show("TTL after a plain SET", client.ttl(KEY))
    client.set(KEY, "alice", ex=300)
    client.set(KEY, "alice, renamed", keepttl=True)
    demo.show("TTL after SET ... KEEPTTL", client.ttl(KEY))
    client.getset(KEY, "alice, again")
    demo.show("TTL after GETSET", client.ttl(KEY))
    client.set(KEY, "alice", ex=300)
    client.set(KEY, "alice, once more", get=True)
    demo.show("TTL after SET ... GET", client.ttl(KEY))
    client.set(KEY, "1", ex=300)
    client.incr(KEY)
    client.append(KEY, "0")
    demo.show("TTL after SET ... EX 300, INCR, APPEND", client.ttl(KEY))

    demo.heading("4. Zero is not 'forever'")
    try:
        client.set(KEY, "x", ex=0)
    except Exception as error:  # the server's own refusal is the point of this line
        demo.server_reply("SET ... EX 0", error)
    demo.show("EXPIRE k 0 deletes the key", client.expire(KEY, 0))
    demo.show("TTL afterwards", client.ttl(KEY))

    demo.heading("5. GT/LT: a key without a TTL counts as infinite")
    client.set(KEY, "no expiry")
    demo.show("EXPIRE k 10 GT", client.expire(KEY, 10, gt=True))
    demo.show("EXPIRE k 10 LT", client.expire(KEY, 10, lt=True))
    demo.show("TTL", client.ttl(KEY))
    demo.say(
        "`SET ... EX` sets value and TTL **atomically**. `SET` then `EXPIRE` leaves a moment "
        "in which the key has no TTL: a crash there and it never expires."
    )
    demo.tidy(KEY)
