"""Checks for step 01 (fixed window).

Every request is made at a `now` the check chooses, so the window is the same for every call
of a check. Each known-wrong answer fails one check with its own message: no TTL, EXPIRE
before INCR, PEXPIRE, EXPIRE without NX, GET then SET, off by one, one key for every window,
one key for every user, a count returned instead of True/False.
"""

from valkey_workshop.checking import faults, inspect
from valkey_workshop.checking.api import CheckContext, check

PREFIX = "workshop:ratelimit:fixed:"
#: A fixed request time: 1,700,000,000 s is a window boundary for windows of 60 s and 100 s.
NOW = 1_700_000_010.0
WINDOW = 60


def key(user, now=NOW, window=WINDOW):
    return f"{PREFIX}{user}:{int(now // window)}"


def start(ctx, *users, windows=(NOW,)):
    """Every key the check's users may get (the right ones and the usual wrong ones) absent."""
    keys = [key(user, now) for user in users for now in windows]
    keys += [f"{PREFIX}{user}" for user in users] + [f"{PREFIX}all:{int(NOW // WINDOW)}"]
    ctx.use_keys(*keys)


def allow(ctx, user, limit, now=NOW):
    return ctx.call("allow_request", ctx.client, user, limit, WINDOW, now)


@check("returns-a-bool", "allow_request() answers True or False", hint=1)
def returns_a_bool(ctx: CheckContext) -> None:
    start(ctx, "ada")
    answer = allow(ctx, "ada", 5)
    if not isinstance(answer, bool):
        ctx.fail(
            f"allow_request() returned {answer!r} ({type(answer).__name__}); it should answer "
            "True (allowed) or False (over the limit): compare the count with the limit."
        )


@check("allows-up-to-limit", "The first `limit` requests of a window pass, the next fails", hint=1)
def allows_up_to_limit(ctx: CheckContext) -> None:
    start(ctx, "bea")
    answers = [allow(ctx, "bea", 3) for _ in range(4)]
    allowed = sum(answer is True for answer in answers)
    if answers != [True, True, True, False]:
        ctx.fail(
            f"With limit 3, four requests in one window were answered {answers}: allowed "
            f"{allowed} of 3. INCR returns the count including this request; allow it while "
            "count <= limit."
        )


@check(
    "counter-expires",
    "The window's counter expires `window_seconds` after its first request",
    hint=2,
)
def counter_expires(ctx: CheckContext) -> None:
    start(ctx, "cÿd")
    allow(ctx, "cÿd", 5)
    counter = key("cÿd")
    ttl = ctx.server.ttl(counter)
    names = [name for name, _args, _call in inspect.commands(ctx.learner_calls())]
    if "PEXPIRE" in names:
        ctx.fail(
            f"{counter} got its expiry from PEXPIRE, which counts milliseconds: it lives "
            f"{WINDOW} ms, not {WINDOW} s (TTL now {ttl}). Use EXPIRE."
        )
    if ttl == -1 and "EXPIRE" in names and names.index("EXPIRE") < names.index("INCRBY"):
        ctx.fail(
            f"{counter} never expires: EXPIRE ran before INCR, when the key did not exist yet, "
            "and EXPIRE on a missing key does nothing (it never creates one). INCR first."
        )
    if ttl == -1:
        ctx.fail(
            f"{counter} never expires (TTL -1): every window leaves a key behind forever. "
            f"Give it a TTL of window_seconds ({WINDOW}) with EXPIRE ... NX."
        )
    ctx.require(
        0 < ttl <= WINDOW,
        f"{counter} has TTL {ttl} after the first request; expected up to {WINDOW} seconds.",
    )


@check("expiry-not-pushed", "Later requests of a window keep its counter's expiry", hint=2)
def expiry_not_pushed(ctx: CheckContext) -> None:
    start(ctx, "dan")
    allow(ctx, "dan", 5)
    counter = key("dan")
    ctx.server.expire(counter, 5)  # as if 55 of the window's 60 seconds had passed
    allow(ctx, "dan", 5)
    ttl = ctx.server.ttl(counter)
    if ttl > 5:
        ctx.fail(
            f"A second request pushed the expiry of {counter} out again (TTL 5 became {ttl}): "
            "a user who keeps calling is never let go when the window ends. EXPIRE ... NX sets "
            "the TTL only when the key has none."
        )


@check("count-is-atomic", "Counting and the TTL each take one atomic command", hint=1)
def count_is_atomic(ctx: CheckContext) -> None:
    start(ctx, "eve")
    allow(ctx, "eve", 5)
    counter = key("eve")
    reads = inspect.on_key(ctx.learner_calls(), counter, {"GET", "MGET", "GETEX"})
    if reads:
        ctx.fail(
            f"allow_request() read {counter} ({reads[0].name}) and wrote the count back: two "
            "servers handling the same user at once both read 4, both write 5, and lose "
            "requests. INCR adds one and returns the new count in one atomic command."
        )
    looks = inspect.on_key(ctx.learner_calls(), counter, {"TTL", "PTTL", "EXPIRETIME"})
    if looks:
        ctx.fail(
            f"allow_request() asked for the TTL of {counter} ({looks[0].name}), then set one: "
            "between the two another server's request can set it too, and every request pays "
            "an extra round trip. EXPIRE ... NX sets a TTL only when there is none, in one "
            "command."
        )


@check("windows-are-separate", "The next window starts counting from zero", hint=1)
def windows_are_separate(ctx: CheckContext) -> None:
    later = NOW + WINDOW
    start(ctx, "fay", windows=(NOW, later))
    for _ in range(3):
        allow(ctx, "fay", 2)
    if allow(ctx, "fay", 2, now=later) is not True:
        ctx.fail(
            "A user over the limit in one window was refused in the next window too: the "
            "counter must be per window (window_key(user, window_seconds, now)), so the next "
            "window starts from zero."
        )


@check("users-are-separate", "Each user has a counter of their own", hint=1)
def users_are_separate(ctx: CheckContext) -> None:
    start(ctx, "gil", "hal")
    allow(ctx, "gil", 1)
    if allow(ctx, "hal", 1) is not True:
        ctx.fail(
            "After one request of gil (limit 1), the first request of another user, hal, was "
            "refused: one busy user must not block everyone. Keep a counter per user."
        )


@check("errors-reach-caller", "A lost connection to Valkey reaches the caller", hint=1)
def errors_reach_caller(ctx: CheckContext) -> None:
    # The connection drops at each round trip in turn (from there on, then at that one
    # only): allow_request() must raise, or return with the counter counted and expiring.
    user = "jo-漢字"
    counter = key(user)
    start(ctx, user)
    allow(ctx, user, 5)  # with a working connection first (the starter: "not written yet")

    def attempt(client):
        ctx.server.delete(counter)
        return ctx.exercise.allow_request(client, user, 5, WINDOW, NOW)

    def done():
        return ctx.server.get(counter) == "1" and ctx.server.ttl(counter) > 0

    faults.require_failure_reaches_caller(
        ctx,
        f"allow_request(client, {user!r}, 5, {WINDOW}, now)",
        attempt,
        why="the request was let through uncounted, or its counter never expires",
        done=done,
    )
