"""Checks for step 02 (sliding window).

Requests are made at times the check chooses (T, T + 10, ...), on a window of 60 s. Each
known-wrong answer fails one check with its own message: old requests never removed, the
window's edge kept, one member per instant, refused requests recorded, no TTL, count and add
in separate round trips or in a pipeline without MULTI/EXEC, a fixed window, one set for
every user.
"""

from valkey_workshop.checking import faults, inspect
from valkey_workshop.checking.api import CheckContext, check

PREFIX = "workshop:ratelimit:sliding:"
T = 1_700_000_010.0
WINDOW = 60
COUNTS = {"ZCARD", "ZCOUNT", "ZRANGE", "ZRANGEBYSCORE"}


def start(ctx, *users, times=(T,)):
    """The users' sets absent, and the keys the usual wrong answers write."""
    keys = [PREFIX + user for user in users] + [PREFIX + "all"]
    keys += [f"{PREFIX}{user}:{int(t // WINDOW)}" for user in users for t in times]
    ctx.use_keys(*keys)


def allow(ctx, user, limit, now):
    return ctx.call("allow_request", ctx.client, user, limit, WINDOW, now)


def answers(ctx, user, limit, times):
    return [allow(ctx, user, limit, t) for t in times]


def offsets(times):
    return ", ".join(f"T+{t - T:g}" for t in times)


@check("allows-up-to-limit", "The first `limit` requests in a window pass, the next fails", hint=1)
def allows_up_to_limit(ctx: CheckContext) -> None:
    times = [T, T + 1, T + 2, T + 3]
    start(ctx, "ånn", times=times)
    got = answers(ctx, "ånn", 3, times)
    if got != [True, True, True, False]:
        ctx.fail(
            f"With limit 3, requests at {offsets(times)} were answered {got}; expected "
            "[True, True, True, False]. Count the requests in the window, this one included."
        )


@check("same-instant", "Two requests in the same instant are two requests", hint=1)
def same_instant(ctx: CheckContext) -> None:
    start(ctx, "bén")
    got = answers(ctx, "bén", 3, [T] * 4)
    if got != [True, True, True, False]:
        held = ctx.server.zcard(PREFIX + "bén")
        ctx.fail(
            f"With limit 3, four requests at the same moment were answered {got}, and the set "
            f"holds {held} member(s): a member that is only the time is one member for every "
            "request of that instant (ZADD updates it). Make each member unique, e.g. "
            'f"{now}:{uuid.uuid4().hex}".'
        )


@check("old-requests-expire", "A request stops counting window_seconds after it was made", hint=2)
def old_requests_expire(ctx: CheckContext) -> None:
    times = [T, T + 10, T + 30, T + 60, T + 65]
    start(ctx, "cät", times=times)
    got = answers(ctx, "cät", 2, times)
    if got == [True, True, False, True, False]:
        return
    trims = inspect.on_key(ctx.learner_calls(), PREFIX + "cät", {"ZREMRANGEBYSCORE"})
    exclusive = [c for c in trims if str(c.args[-1]).startswith("(")]
    why = (
        "the request made exactly window_seconds ago (at T) still counted: its score is "
        "now - window_seconds, and ZREMRANGEBYSCORE ... (max keeps it. Remove up to "
        "now - window_seconds inclusive"
        if exclusive
        else "requests older than the window still counted: drop them with "
        "ZREMRANGEBYSCORE key -inf (now - window_seconds) before counting"
    )
    ctx.fail(
        f"With limit 2, requests at {offsets(times)} were answered {got}; expected "
        f"[True, True, False, True, False]: {why}."
    )


@check("window-slides", "The window slides with each request, it does not reset", hint=2)
def window_slides(ctx: CheckContext) -> None:
    # T + 30 is the first second of a new fixed 60 s window (T is 30 s into one); the
    # sliding window at T + 31 still holds T.
    times = [T, T + 30, T + 31, T + 61]
    start(ctx, "döv", times=times)
    got = answers(ctx, "döv", 2, times)
    if got != [True, True, False, True]:
        ctx.fail(
            f"With limit 2, requests at {offsets(times)} were answered {got}; expected "
            "[True, True, False, True]. A fixed window starts again at its boundary and lets "
            "up to twice the limit through around it; a sliding window counts the last "
            "window_seconds before each request."
        )


@check("refused-not-recorded", "A refused request does not count", hint=2)
def refused_not_recorded(ctx: CheckContext) -> None:
    times = [T, T + 30, T + 31, T + 32, T + 60]
    start(ctx, "éli", times=times)
    got = answers(ctx, "éli", 1, times)
    if got != [True, False, False, False, True]:
        ctx.fail(
            f"With limit 1, requests at {offsets(times)} were answered {got}; expected "
            "[True, False, False, False, True]: the refused requests were recorded, so a "
            "user who keeps retrying is never let through. Take a refused request back out "
            "(ZREM)."
        )


@check("set-expires", "The user's set expires window_seconds after the last request", hint=2)
def set_expires(ctx: CheckContext) -> None:
    start(ctx, "fïn")
    allow(ctx, "fïn", 5, T)
    ttl = ctx.server.ttl(PREFIX + "fïn")
    if ttl == -1:
        ctx.fail(
            f"{PREFIX}fïn never expires (TTL -1): every user who ever called leaves a key "
            f"behind. EXPIRE it window_seconds ({WINDOW}) after each allowed request."
        )
    ctx.require(
        0 < ttl <= WINDOW,
        f"{PREFIX}fïn has TTL {ttl} after a request; expected up to {WINDOW} seconds.",
    )
    ctx.server.expire(PREFIX + "fïn", 5)  # as if 55 s had passed
    allow(ctx, "fïn", 5, T + 55)
    again = ctx.server.ttl(PREFIX + "fïn")
    if again <= 5:
        ctx.fail(
            f"After a second request 55 s later the TTL of {PREFIX}fïn stayed {again}: the "
            "set would vanish 5 s from now, taking that request with it, while it should "
            "still count for 60 s. Each allowed request renews the TTL (EXPIRE without NX)."
        )


@check("count-and-add-together", "Counting and adding cannot be split by another server", hint=3)
def count_and_add_together(ctx: CheckContext) -> None:
    start(ctx, "güs")
    allow(ctx, "güs", 5, T)
    trips = ctx.learner_calls()
    key = PREFIX + "güs"
    adds = [i for i, call in enumerate(trips) if inspect.on_key([call], key, {"ZADD"})]
    counts = [i for i, call in enumerate(trips) if inspect.on_key([call], key, COUNTS)]
    if adds and counts and counts[0] < adds[0]:
        ctx.fail(
            "allow_request() counted the set in one round trip and added the request in a "
            "later one: two servers handling the same user at once both see room for one "
            "more and both add it. Add first and take it back when over, in MULTI/EXEC, or "
            "decide in a Lua script."
        )
    for index in set(adds) & set(counts):
        batch = trips[index].batch
        if batch is not None and not batch.transaction:
            ctx.fail(
                "allow_request() sent ZADD and the count in a pipeline without MULTI/EXEC: "
                "a pipeline saves round trips but is not atomic, so another server's "
                "commands can run in between. Use client.pipeline(transaction=True)."
            )


@check("users-are-separate", "Each user has a set of their own", hint=1)
def users_are_separate(ctx: CheckContext) -> None:
    start(ctx, "hal", "ivy")
    allow(ctx, "hal", 1, T)
    if allow(ctx, "ivy", 1, T) is not True:
        ctx.fail(
            "After one request of hal (limit 1), the first request of another user, ivy, was "
            "refused: one busy user must not block everyone. Keep a set per user."
        )


@check("errors-reach-caller", "A lost connection to Valkey reaches the caller", hint=3)
def errors_reach_caller(ctx: CheckContext) -> None:
    # The user is at the limit, so the request is refused and taken back out: the
    # connection drops at each round trip in turn and allow_request() must raise.
    user = "jo-漢字"
    key = PREFIX + user
    start(ctx, user)

    def full():
        ctx.server.delete(key)
        ctx.server.zadd(key, {f"{T - 1}:before": T - 1})

    full()
    allow(ctx, user, 1, T)  # with a working connection first (the starter: "not written yet")

    def attempt(client):
        full()
        return ctx.exercise.allow_request(client, user, 1, WINDOW, T)

    faults.require_failure_reaches_caller(
        ctx,
        f"allow_request(client, {user!r}, 1, {WINDOW}, T)",
        attempt,
        why="the refused request may still be in the set, counting against the user",
    )
