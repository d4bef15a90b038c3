"""Checks for step 03 (ttl-persist)."""

from valkey_workshop.checking import inspect
from valkey_workshop.checking.api import CheckContext, check

KEY = "workshop:ttl:check"


@check(
    "cache-with-ttl",
    "cache_with_ttl stores the value with its TTL, atomically",
    hint=1,
    lesson="Atomic: one command, not two",
)
def cache_with_ttl(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.call("cache_with_ttl", ctx.client, KEY, "hello", 120)
    value = ctx.server.get(KEY)
    if value is None:
        ctx.fail(f"After cache_with_ttl(client, {KEY!r}, 'hello', 120) the key does not exist.")
    ctx.require(value == "hello", f"cache_with_ttl stored {value!r}; expected 'hello'.")
    ttl = ctx.server.ttl(KEY)
    if ttl == -1:
        ctx.fail(f"{KEY} has no TTL (TTL answers -1): it will never expire.")
    ctx.require(0 < ttl <= 120, f"{KEY} has a TTL of {ttl} s; expected at most 120 s.")
    ctx.require(ttl >= 110, f"{KEY} has a TTL of {ttl} s; expected about 120 s.")
    window = inspect.ttl_window(ctx.learner_calls(), KEY)
    if window:
        ctx.fail(window)


@check(
    "extend-ttl",
    "extend_ttl resets an existing TTL and creates nothing",
    hint=2,
    lesson="Setting a TTL",
)
def extend_ttl(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "v", ex=5)
    result = ctx.call("extend_ttl", ctx.client, KEY, 300)
    ttl = ctx.server.ttl(KEY)
    ctx.require(
        result is True or (result == 1 and not isinstance(result, str)),
        f"extend_ttl on an existing key returned {result!r}; expected True.",
    )
    ctx.require(
        290 <= ttl <= 300, f"After extend_ttl(..., 300) the TTL is {ttl}; expected about 300."
    )
    ctx.require(
        ctx.server.get(KEY) == "v",
        "extend_ttl changed the key's value; only the TTL should change.",
    )
    ctx.server.delete(KEY)
    result = ctx.call("extend_ttl", ctx.client, KEY, 300)
    if ctx.server.exists(KEY):
        ctx.fail(
            f"extend_ttl on a missing key created it (value {ctx.server.get(KEY)!r}). A TTL is "
            "about keys that exist: EXPIRE answers 0 for a missing key and creates nothing."
        )
    ctx.require(
        result is False or result == 0,
        f"extend_ttl on a missing key returned {result!r}; expected False.",
    )


@check(
    "make-persistent",
    "make_persistent removes a TTL and says whether there was one",
    hint=2,
    lesson="Setting a TTL",
)
def make_persistent(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "v", ex=100)
    result = ctx.call("make_persistent", ctx.client, KEY)
    ttl = ctx.server.ttl(KEY)
    ctx.require(ttl == -1, f"After make_persistent the TTL is {ttl}; expected -1 (no expiry).")
    ctx.require(
        ctx.server.get(KEY) == "v", "make_persistent changed the value; only the TTL should go."
    )
    ctx.require(
        result is True or result == 1,
        f"make_persistent returned {result!r} after removing a TTL; expected True.",
    )
    for state, prepare in (
        ("has no TTL", lambda: ctx.server.set(KEY, "v")),
        ("is missing", lambda: ctx.server.delete(KEY)),
    ):
        prepare()
        result = ctx.call("make_persistent", ctx.client, KEY)
        if result:
            ctx.fail(
                f"make_persistent returned {result!r} for a key that {state}; expected False: "
                "PERSIST answers 0 when there was no TTL to remove."
            )
    ctx.require(not ctx.server.exists(KEY), "make_persistent created a key that was missing.")


@check(
    "update-keeps-ttl",
    "update_keep_ttl changes the value and keeps the TTL",
    hint=3,
    lesson="The pitfall: SET throws the TTL away",
)
def update_keeps_ttl(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "old", ex=200)
    ctx.call("update_keep_ttl", ctx.client, KEY, "new")
    value, ttl = ctx.server.get(KEY), ctx.server.ttl(KEY)
    ctx.require(value == "new", f"After update_keep_ttl the value is {value!r}; expected 'new'.")
    if ttl == -1:
        ctx.fail(
            "update_keep_ttl lost the TTL (TTL answers -1): a plain SET throws the old TTL away. "
            "Use set(key, value, keepttl=True) (SET ... KEEPTTL)."
        )
    ctx.require(
        190 <= ttl <= 200, f"After update_keep_ttl the TTL is {ttl}; expected the ~200 s it had."
    )


@check(
    "ttl-status",
    "ttl_status tells missing, persistent and expiring apart",
    hint=2,
    lesson="Setting a TTL",
)
def ttl_status(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    cases = (
        ("missing", lambda: ctx.server.delete(KEY), "a missing key (TTL answers -2)"),
        ("persistent", lambda: ctx.server.set(KEY, "v"), "a key without expiry (TTL answers -1)"),
        ("expiring", lambda: ctx.server.set(KEY, "v", ex=50), "a key with a 50 s TTL"),
    )
    for expected, prepare, what in cases:
        prepare()
        result = ctx.call("ttl_status", ctx.client, KEY)
        if result != expected:
            ctx.fail(
                f"ttl_status returned {result!r} for {what}; expected {expected!r}. "
                "TTL answers -2 for a missing key and -1 for a key that never expires."
            )
