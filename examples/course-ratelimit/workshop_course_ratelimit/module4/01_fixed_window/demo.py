"""Demo 01: a fixed-window counter on the live server: INCR, EXPIRE NX, the edge between
two windows."""

import time

PREFIX = "workshop:demo:ratelimit:fixed:"


def run(demo):
    client = demo.client
    window = 60
    number = int(time.time() // window)
    key = f"{PREFIX}alice:{number}"
    demo.tidy(key)

    demo.heading("1. INCR counts from 0 and returns the new count")
    demo.show("INCR (the first request of the window)", client.incr(key))
    demo.show("INCR (the second)", client.incr(key))

    demo.heading("2. EXPIRE NX sets a TTL only once")
    demo.show("EXPIRE key 60 NX answered", client.expire(key, window, nx=True))
    demo.show("TTL", client.ttl(key))
    demo.show("EXPIRE key 60 NX again answered", client.expire(key, window, nx=True))
    demo.show("INCR (the third)", client.incr(key))
    demo.show("TTL after INCR (INCR keeps it)", client.ttl(key))

    demo.heading("3. EXPIRE never creates a key")
    missing = f"{PREFIX}nobody:{number}"
    demo.tidy(missing)
    demo.show("EXPIRE on a missing key answered", client.expire(missing, window, nx=True))
    demo.show("EXISTS afterwards", client.exists(missing))
    demo.say(
        "Count with **INCR**, then set the TTL with **EXPIRE ... NX**: the first request of "
        "a window starts its clock, later ones leave it alone."
    )
    demo.tidy(key)
