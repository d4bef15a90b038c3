"""Checks for step 08 (write-patterns): write-through order, write-back queueing, and a flush
that is crashed in the middle and must lose nothing."""

import json

from valkey_workshop.checking import inspect
from valkey_workshop.checking.api import CheckContext, check
from valkey_workshop.labdb import catalogue_record

QUEUE = "product:write-queue"


def key(product_id):
    return f"product:{product_id}:details"


class SimulatedCrash(BaseException):
    """The flushing process dies here (a BaseException, so `except Exception` does not hide it)."""


def _prime(ctx, product_id):
    ctx.server.set(key(product_id), json.dumps(catalogue_record(product_id)), ex=300)


def _queue_changes(ctx, product_id, prices):
    for price in prices:
        ctx.call("write_back", ctx.client, product_id, {"price": price})


def _groups(ctx):
    try:
        return ctx.server.xinfo_groups(QUEUE)
    except Exception:  # no stream at all
        return []


def _pending(ctx):
    return sum(int(group["pending"]) for group in _groups(ctx))


@check(
    "write-through",
    "write_through updates the database, then the cache, then returns",
    hint=1,
    lesson="Write-through",
)
def write_through(ctx: CheckContext) -> None:
    product = "P301"
    ctx.use_keys(key(product), key("P9999"))
    db = ctx.database()
    _prime(ctx, product)
    returned = ctx.call("write_through", ctx.client, db, product, {"price": 5.5})
    expected = {**catalogue_record(product), "price": 5.5}
    ctx.require(
        db.update_calls == 1,
        f"write_through called db.update_product {db.update_calls} times; expected once.",
    )
    ctx.require(
        returned == expected, f"write_through returned {returned!r}; expected {expected!r}."
    )
    raw = ctx.server.get(key(product))
    if raw is None:
        ctx.fail(f"After write_through nothing is cached at {key(product)}: the next read misses.")
    try:
        cached = json.loads(raw)
    except ValueError:
        ctx.fail(f"{key(product)} holds {raw[:50]!r}, which is not JSON.")
    ctx.require(
        cached == expected, f"The cache holds {cached!r}; expected the new record {expected!r}."
    )
    ttl = ctx.server.ttl(key(product))
    ctx.require(ttl != -1, f"{key(product)} has no TTL after write_through: it would never expire.")
    window = inspect.ttl_window(ctx.learner_calls(), key(product))
    if window:
        ctx.fail(window)
    # An unknown product: the database refuses, so the cache must not learn about it.
    try:
        ctx.exercise.write_through(ctx.client, ctx.database(), "P9999", {"price": 1.0})
    except KeyError:
        pass
    except Exception as error:
        ctx.fail(
            f"write_through for an unknown product raised {error!r}; the database raises KeyError."
        )
    if ctx.server.exists(key("P9999")):
        ctx.fail(
            "write_through cached a change the database refused (unknown product P9999): the "
            "cache now serves data the database never had. Write the database first."
        )


@check(
    "write-back",
    "write_back updates the cache at once and queues the change with XADD",
    hint=2,
    lesson="Write-back (write-behind)",
)
def write_back(ctx: CheckContext) -> None:
    product = "P302"
    ctx.use_keys(key(product), QUEUE)
    _prime(ctx, product)
    ctx.call("write_back", ctx.client, product, {"price": 2.5})
    cached = json.loads(ctx.server.get(key(product)) or "null")
    expected = {**catalogue_record(product), "price": 2.5}
    ctx.require(
        cached == expected, f"After write_back the cache holds {cached!r}; expected {expected!r}."
    )
    ctx.require(
        ctx.server.ttl(key(product)) > 0,
        "write_back dropped the cached record's TTL: keep it (SET ... KEEPTTL).",
    )
    if ctx.server.type(QUEUE) != "stream" or ctx.server.xlen(QUEUE) != 1:
        ctx.fail(
            f"write_back queued nothing on the stream {QUEUE}: the database would never hear "
            "of this change. Append it with XADD."
        )


@check(
    "flush-applies-in-order",
    "flush_write_queue applies queued changes in order, through a consumer group",
    hint=3,
    lesson="Write-back (write-behind)",
)
def flush_applies_in_order(ctx: CheckContext) -> None:
    product = "P303"
    ctx.use_keys(key(product), QUEUE)
    _prime(ctx, product)
    _queue_changes(ctx, product, [10.0, 20.0, 30.0])
    seen = []
    db = ctx.database(before_update=lambda pid, changes: seen.append(changes.get("price")))
    applied = ctx.call("flush_write_queue", ctx.client, db)
    if not _groups(ctx):
        ctx.fail(
            f"No consumer group exists on {QUEUE}: without one nothing records which entries "
            "were delivered but not yet written, so a crash can lose or repeat them. Read with "
            "XREADGROUP and acknowledge with XACK."
        )
    ctx.require(
        seen == [10.0, 20.0, 30.0],
        f"The database received prices {seen}; expected [10.0, 20.0, 30.0], in that order.",
    )
    ctx.require(applied == 3, f"flush_write_queue returned {applied!r}; it applied 3 changes.")
    pending = _pending(ctx)
    ctx.require(
        pending == 0,
        f"{pending} entries are still pending after the flush: "
        + "acknowledge each one after its database write.",
    )
    again = ctx.call("flush_write_queue", ctx.client, db)
    ctx.require(
        again == 0 and len(seen) == 3,
        f"A second flush applied changes again ({again}); each entry must be applied once.",
    )


@check(
    "crash-loses-nothing",
    "A crash between read and acknowledge loses nothing",
    hint=3,
    lesson="Write-back (write-behind)",
)
def crash_loses_nothing(ctx: CheckContext) -> None:
    product = "P304"
    ctx.use_keys(key(product), QUEUE)
    _prime(ctx, product)
    _queue_changes(ctx, product, [40.0, 50.0, 60.0])
    applied_prices = []

    def crash_on_second(pid, changes):
        if len(attempts) == 1:
            attempts.append(changes)
            raise SimulatedCrash("the flushing process died here")
        attempts.append(changes)

    attempts = []
    db = ctx.database(before_update=crash_on_second)
    try:
        ctx.exercise.flush_write_queue(ctx.client, db)
    except SimulatedCrash:
        pass
    except Exception as error:
        ctx.fail(f"flush_write_queue raised {error!r} before the simulated crash.")
    else:
        ctx.fail(
            "The simulated crash in the second database write never reached the caller: "
            + "flush_write_queue swallowed it."
        )
    db.before_update = lambda pid, changes: applied_prices.append(changes.get("price"))
    price_after_crash = db.get_product(product)["price"]
    ctx.call("flush_write_queue", ctx.client, db)
    final = db.get_product(product)["price"]
    if final == 60.0 and applied_prices[:1] == [50.0]:
        return
    if _pending(ctx):
        ctx.fail(
            f"After the crash, the next flush left {_pending(ctx)} entries pending and the price "
            f"at {final} (expected 60.0): entries read before the crash but not acknowledged are "
            "never read again with '>'. Read your pending entries (ID 0) first."
        )
    if 50.0 not in applied_prices and final != 50.0:
        ctx.fail(
            "The change to 50.0 was lost: it was acknowledged before the database write, so "
            f"after the crash no one applied it (the database went from {price_after_crash} to "
            f"{final}). Acknowledge only after the write."
        )
    ctx.fail(
        f"After the crash and a second flush the price is {final}; expected 60.0 (changes "
        f"applied in the second flush: {applied_prices})."
    )
