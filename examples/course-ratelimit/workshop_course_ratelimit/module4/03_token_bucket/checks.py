"""Checks for step 03 (token bucket).

Requests are made at times the check chooses (T, T + 0.5, ...). Each known-wrong answer fails
one check with its own message: a bucket that starts empty, never refills, refills at the
wrong rate, saves up beyond its capacity, loses the fractions, spends tokens it does not
have, never expires or expires too soon, is shared by every user, or is decided in Python
between a read and a write.
"""

import math

from valkey_workshop.checking import faults
from valkey_workshop.checking.api import CheckContext, check

PREFIX = "workshop:ratelimit:bucket:"
T = 1_700_000_010.0
ON_SERVER = {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"}


def start(ctx, *users):
    ctx.use_keys(*[PREFIX + user for user in users], PREFIX + "all")


def take(ctx, user, capacity, rate, now):
    return ctx.call("take_token", ctx.client, user, capacity, rate, now)


def answers(ctx, user, capacity, rate, times):
    return [take(ctx, user, capacity, rate, t) for t in times]


def offsets(times):
    return ", ".join(f"T+{t - T:g}" for t in times)


@check("starts-full", "A new bucket is full: `capacity` requests pass at once", hint=1)
def starts_full(ctx: CheckContext) -> None:
    start(ctx, "amy")
    got = answers(ctx, "amy", 3, 1, [T] * 4)
    if got != [True, True, True, False]:
        ctx.fail(
            f"A new bucket of capacity 3 answered four requests at one moment with {got}; "
            "expected [True, True, True, False]. A user without a bucket has a full one "
            "(`tonumber(bucket[1]) or capacity`); each request takes one token."
        )


@check("refills", "The bucket refills at refill_per_second tokens per second", hint=2)
def refills(ctx: CheckContext) -> None:
    start(ctx, "bo")
    times = [T, T, T, T + 0.5, T + 0.5]
    got = answers(ctx, "bo", 2, 2, times)
    if got != [True, True, False, True, False]:
        ctx.fail(
            f"Capacity 2, 2 tokens per second: requests at {offsets(times)} were answered "
            f"{got}; expected [True, True, False, True, False]: 0.5 s after the bucket ran "
            "dry it holds one token again. Refill by (now - ts) * rate before taking."
        )


@check("capped", "The bucket never holds more than `capacity` tokens", hint=2)
def capped(ctx: CheckContext) -> None:
    start(ctx, "cy")
    times = [T, T, T + 100, T + 100, T + 100]
    got = answers(ctx, "cy", 2, 1, times)
    if got != [True, True, True, True, False]:
        ctx.fail(
            f"Capacity 2, 1 token per second: requests at {offsets(times)} were answered "
            f"{got}; expected [True, True, True, True, False]: after 100 s idle the bucket "
            "holds 2 tokens, its capacity, not 100. Cap the refill with math.min(capacity, ...)."
        )


@check("fractions-count", "Fractions of a token add up between requests", hint=2)
def fractions_count(ctx: CheckContext) -> None:
    start(ctx, "di")
    times = [T, T + 1, T + 2]
    got = answers(ctx, "di", 1, 0.5, times)
    if got != [True, False, True]:
        ctx.fail(
            f"Capacity 1, half a token per second: requests at {offsets(times)} were answered "
            f"{got}; expected [True, False, True]: the half token refilled by T+1 must still "
            "be there at T+2. Store the tokens with their fraction (tostring(tokens)), do not "
            "round them down."
        )


@check("refused-costs-nothing", "A refused request takes no token", hint=2)
def refused_costs_nothing(ctx: CheckContext) -> None:
    start(ctx, "ed")
    times = [T, T + 0.2, T + 0.4, T + 0.6, T + 1]
    got = answers(ctx, "ed", 1, 1, times)
    if got != [True, False, False, False, True]:
        tokens = ctx.server.hget(PREFIX + "ed", "tokens")
        ctx.fail(
            f"Capacity 1, 1 token per second: requests at {offsets(times)} were answered "
            f"{got} (tokens now {tokens}); expected [True, False, False, False, True]: a "
            "refused request took a token it did not have, so retrying locks a user out. "
            "Take a token only when there is one."
        )


@check("bucket-expires", "The bucket expires once it would be full again", hint=3)
def bucket_expires(ctx: CheckContext) -> None:
    start(ctx, "fu")
    take(ctx, "fu", 10, 2, T)
    ttl = ctx.server.ttl(PREFIX + "fu")
    full_after = math.ceil(10 / 2)
    if ttl == -1:
        ctx.fail(
            f"{PREFIX}fu never expires (TTL -1): every user who ever called leaves a key "
            f"behind. Once a bucket would be full again (capacity / rate = {full_after} s "
            "here) a missing bucket means the same: EXPIRE it then."
        )
    if ttl < full_after - 1:
        ctx.fail(
            f"{PREFIX}fu expires in {ttl} s, before it would be full again ({full_after} s for "
            "capacity 10 at 2 per second): an emptied bucket then comes back full too soon. "
            "EXPIRE it after math.ceil(capacity / rate) seconds."
        )


@check("decided-on-the-server", "Refill and take run atomically on the server", hint=3)
def decided_on_the_server(ctx: CheckContext) -> None:
    start(ctx, "gia")
    take(ctx, "gia", 5, 1, T)  # a first call may load a script or a function
    before = len(ctx.learner_calls())
    take(ctx, "gia", 5, 1, T + 1)
    sent = [call.command for call in ctx.learner_calls()[before:]]
    if len(sent) != 1 or sent[0].upper() not in ON_SERVER:
        ctx.fail(
            f"One request took {len(sent)} round trip(s) ({', '.join(sent)}): reading the "
            "bucket, deciding in Python and writing it back lets two servers both see the "
            "last token and both take it. Decide in one Lua script (EVAL) or function (FCALL): "
            "the server runs it with no other command in between."
        )


@check("users-are-separate", "Each user has a bucket of their own", hint=1)
def users_are_separate(ctx: CheckContext) -> None:
    start(ctx, "hu", "ida")
    take(ctx, "hu", 1, 1, T)
    if take(ctx, "ida", 1, 1, T) is not True:
        ctx.fail(
            "After hu took the only token of a bucket of capacity 1, the first request of "
            "another user, ida, was refused: one busy user must not empty everyone's bucket. "
            "Keep a bucket per user."
        )


@check("errors-reach-caller", "A lost connection to Valkey reaches the caller", hint=3)
def errors_reach_caller(ctx: CheckContext) -> None:
    # The connection drops at each round trip in turn: take_token() must raise, not decide
    # without the server.
    user = "jo-漢字"
    start(ctx, user)
    take(ctx, user, 2, 1.0, T)  # with a working connection first (the starter: "not written yet")

    def attempt(client):
        ctx.server.delete(PREFIX + user)
        return ctx.exercise.take_token(client, user, 2, 1.0, T)

    faults.require_failure_reaches_caller(
        ctx,
        f"take_token(client, {user!r}, 2, 1.0, T)",
        attempt,
        why="the caller gets an answer no bucket gave: the decision belongs to the server",
    )
