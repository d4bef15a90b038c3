"""Demo 03: TTLs on the live server: -1 against -2, PERSIST, SET losing the TTL, KEEPTTL; how
expired keys are reclaimed (lazily, and by the active cycle); per-field TTLs where the server
has them (Valkey 9.0+)."""

import time

from valkey_workshop.content import requirements

KEY = "workshop:demo:ttl:session"
EXPIRING = "workshop:demo:ttl:expiring:"
CART = "workshop:demo:ttl:cart"
#: Keys the expiry section writes: enough for the active cycle to take more than one round.
EXPIRING_KEYS = 2000


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
    # valkey-py's incr() sends INCRBY key 1 (the call line above says so); both keep the TTL.
    demo.show("TTL after SET ... EX 300, INCRBY (valkey-py's incr()), APPEND", client.ttl(KEY))

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
    _reclaiming(demo)
    _field_ttls(demo)


def _reclaiming(demo):
    demo.heading("6. Expired is not yet gone: lazy and active expiry")
    client, setup = demo.client, demo.setup
    names = [f"{EXPIRING}{n}" for n in range(EXPIRING_KEYS)]
    hz = setup.config_get("hz")["hz"]
    before = int(setup.info("stats")["expired_keys"])
    others = int(setup.dbsize())  # keys that are not the demo's (DBSIZE counts them too)
    pipe = setup.pipeline(transaction=False)
    for name in names:
        pipe.set(name, "x" * 100, px=100)
    pipe.execute()
    time.sleep(0.12)  # every key's TTL is over now
    # DBSIZE, not EXISTS: EXISTS on an expired key deletes it (lazy expiry) and answers 0.
    counted = int(setup.dbsize()) - others
    demo.show(f"DBSIZE just after {EXPIRING_KEYS:,} keys' 100 ms TTL ran out", counted)
    demo.show(f"GET {names[0]} (an expired key read: deleted on the spot)", client.get(names[0]))
    started = time.perf_counter()
    while setup.dbsize() > others and time.perf_counter() - started < 5:
        time.sleep(0.01)
    reclaimed_after = time.perf_counter() - started
    removed = int(setup.info("stats")["expired_keys"]) - before
    demo.show("expired_keys grew by (INFO stats)", removed)
    demo.say(
        "Valkey removes an expired key in two ways. **Lazily**: any command that touches it "
        "deletes it first, so nobody reads an expired value. **Actively**: "
        f"`hz` ({hz} here) times a second it samples keys that have a TTL and deletes the "
        "expired ones, going on while many of a sample were expired. Until one of the two "
        "reaches a key, it still holds its memory: "
        + (
            f"here {counted:,} expired keys were still counted right after their TTL, and the "
            + (
                f"active cycle had removed them all {reclaimed_after * 1000:.0f} ms later."
                if int(setup.dbsize()) <= others
                else f"some were still there {reclaimed_after:.0f} s later."
            )
            if counted
            else "this time the active cycle had already removed all of them when we looked."
        )
    )
    demo.tidy(*names)


def _field_ttls(demo):
    demo.heading("7. A TTL per hash field (Valkey 9.0 and later)")
    client = demo.client
    missing = requirements.unmet(demo.setup, ["HSETEX"])
    if missing:
        demo.say(
            f"This server ({requirements.server_label(demo.setup)}) has no `HSETEX`: per-field "
            "TTLs (`HSETEX`, `HGETEX`, `HEXPIRE`, `HTTL`) arrived in Valkey 9.0. Here a TTL "
            "belongs to a whole key."
        )
        return
    demo.tidy(CART)
    client.hset(CART, "items", "3")
    client.execute_command("HSETEX", CART, "EX", "60", "FIELDS", "1", "coupon", "SAVE10")
    demo.show(
        "HTTL cart FIELDS 2 items coupon (-1: no TTL)",
        client.execute_command("HTTL", CART, "FIELDS", "2", "items", "coupon"),
    )
    demo.show("TTL of the key itself", client.ttl(CART))
    demo.show(
        "HGETEX cart EX 300 FIELDS 1 coupon (read and set a new field TTL)",
        client.execute_command("HGETEX", CART, "EX", "300", "FIELDS", "1", "coupon"),
    )
    demo.show(
        "HTTL cart FIELDS 1 coupon", client.execute_command("HTTL", CART, "FIELDS", "1", "coupon")
    )
    demo.say(
        "The coupon expires on its own while the cart stays: one hash, one TTL per field. "
        "`HEXPIRE key seconds FIELDS n f ...` sets it on existing fields, `HPERSIST` removes it."
    )
    demo.tidy(CART)
    demo.tidy(KEY)
