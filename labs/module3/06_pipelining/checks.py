"""Checks for step 06 (pipelining): round trips counted from the timed client, the learner's
load timed against a one-by-one load of the same products in the same run."""

import json
import math
import time

from valkey_workshop.checking.api import CheckContext, check

COUNT = 3000
BATCH = 1000


def key(product_id):
    return f"product:{product_id}:details"


def products(prefix, count):
    return {
        f"{prefix}{i}": {"id": f"{prefix}{i}", "name": f"Bulk item {i}", "price": float(i)}
        for i in range(count)
    }


def _delete(ctx, ids):
    names = [key(product_id) for product_id in ids]
    for start in range(0, len(names), 1000):
        ctx.server.delete(*names[start : start + 1000])


def _one_by_one_seconds(ctx, catalogue):
    started = time.perf_counter()
    for product_id, record in catalogue.items():
        ctx.server.set(key(product_id), json.dumps(record))
    return time.perf_counter() - started


@check(
    "load-in-batches",
    "load_products stores every product in few round trips, and faster",
    hint=2,
    lesson="The arithmetic",
)
def load_in_batches(ctx: CheckContext) -> None:
    mine, baseline = products("BULK", COUNT), products("BASE", COUNT)
    try:
        _delete(ctx, mine)
        baseline_seconds = _one_by_one_seconds(ctx, baseline)
        started = time.perf_counter()
        stored = ctx.call("load_products", ctx.client, mine, BATCH)
        learner_seconds = time.perf_counter() - started
        calls = ctx.learner_calls()
        ctx.require(
            stored == COUNT, f"load_products returned {stored!r}; it stored {COUNT} products."
        )
        pipe = ctx.server.pipeline(transaction=False)
        for product_id in mine:
            pipe.get(key(product_id))
        values = pipe.execute()
        missing = [pid for pid, value in zip(mine, values, strict=True) if value is None]
        if missing:
            ctx.fail(f"{len(missing)} products were not stored, e.g. {key(missing[0])}.")
        first = next(iter(mine))
        ctx.require(
            json.loads(values[0]) == mine[first],
            f"{key(first)} holds {values[0][:60]!r}; expected the record as JSON.",
        )
        allowed = math.ceil(COUNT / BATCH)
        timing = (
            f"your load: {learner_seconds * 1000:.0f} ms; one SET at a time: "
            f"{baseline_seconds * 1000:.0f} ms ({baseline_seconds / learner_seconds:.1f}x)."
        )
        if len(calls) > allowed:
            single = [c for c in calls if c.is_pipeline and len(c.command_names) == 1]
            if len(single) > COUNT // 2:
                ctx.fail(
                    f"{len(calls)} round trips for {COUNT} products: one pipeline per product "
                    "is still one round trip per product. Queue a whole batch in one pipeline, "
                    f"then execute it. {timing}"
                )
            if sum(1 for c in calls if not c.is_pipeline) > COUNT // 2:
                ctx.fail(
                    f"{len(calls)} round trips for {COUNT} products: one round trip per product, "
                    f"each waiting for the network. Pipeline them in batches. {timing}"
                )
            ctx.fail(
                f"{len(calls)} round trips for {COUNT} products in batches of {BATCH}; expected at "
                f"most {allowed}. {timing}"
            )
        if learner_seconds >= baseline_seconds * 0.7:
            ctx.fail(f"No real speed-up over one SET at a time: {timing}")
        ctx.note(f"{len(calls)} round trips; {timing}")
    finally:
        _delete(ctx, mine)
        _delete(ctx, baseline)


@check(
    "fetch-in-one-round-trip",
    "fetch_products returns records in order, None for missing, in one round trip",
    hint=3,
    lesson="Pipelines, transactions and MSET",
)
def fetch_in_one_round_trip(ctx: CheckContext) -> None:
    catalogue = products("FETCH", 20)
    ids = [*list(catalogue)[:10], "FETCH-missing", *list(catalogue)[10:]]
    try:
        for product_id, record in catalogue.items():
            ctx.server.set(key(product_id), json.dumps(record))
        ctx.server.delete(key("FETCH-missing"))
        result = ctx.call("fetch_products", ctx.client, ids)
        calls = ctx.learner_calls()
        expected = [catalogue.get(product_id) for product_id in ids]
        if not isinstance(result, list):
            ctx.fail(f"fetch_products returned {type(result).__name__}; expected a list.")
        if len(result) != len(ids):
            ctx.fail(
                f"fetch_products returned {len(result)} items for {len(ids)} ids: a missing "
                "product must be None in its place, so that result[i] belongs to ids[i]."
            )
        if result != expected:
            wrong = next(i for i, (a, b) in enumerate(zip(result, expected, strict=True)) if a != b)
            ctx.fail(
                f"Item {wrong} ({ids[wrong]}) is {result[wrong]!r}; expected {expected[wrong]!r}."
            )
        if len(calls) != 1:
            ctx.fail(
                f"fetch_products made {len(calls)} round trips for {len(ids)} products; one MGET "
                "(or one pipeline) needs exactly one."
            )
    finally:
        _delete(ctx, [*catalogue, "FETCH-missing"])
