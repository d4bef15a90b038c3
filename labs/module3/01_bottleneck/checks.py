"""Checks for step 01 (bottleneck)."""

import numbers

from valkey_workshop.checking.api import CheckContext, check

KEY = "workshop:bottleneck:probe"
#: A database slow enough that timing mistakes are obvious, fast enough for a quick check.
DB_LATENCY_SECONDS = 0.05

QUESTIONS = {
    "q1": {
        "answer": "b",
        "a": "building a request takes microseconds; the wait is in the primary store",
        "c": "JSON encoding is quick next to disk reads, network hops and query execution",
    },
    "q2": {
        "answer": "a",
        "b": "compression costs time, it does not save it; Valkey is fast because data is in RAM",
        "c": "Valkey does not read the database's files; it serves its own data from RAM",
    },
    "q3": {
        "answer": "b",
        "a": "a cache does not replace the database: it holds copies, and misses still go to the "
        "database, which stays the source of truth",
        "c": "the database never forwards reads to Valkey; the application asks Valkey first",
    },
}


def _milliseconds(ctx: CheckContext, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        ctx.fail(f"{name}() returned {value!r}; it should return a number of milliseconds.")
    return float(value)


@check("database-timing", "Times one database read, in milliseconds", hint=2)
def database_timing(ctx: CheckContext) -> None:
    db = ctx.database(latency_seconds=DB_LATENCY_SECONDS)
    value = ctx.call("measure_database_read", db, "P42")
    if db.get_calls == 0:
        ctx.fail("measure_database_read() never called db.get_product(): nothing was measured.")
    if db.get_calls > 1:
        ctx.fail(
            f"measure_database_read() read the database {db.get_calls} times; time exactly one "
            "db.get_product() call so the number means one read."
        )
    measured = _milliseconds(ctx, "measure_database_read", value)
    actual_ms = (db.calls[0].ended_ns - db.calls[0].started_ns) / 1e6
    if abs(measured * 1000 - actual_ms) < actual_ms * 0.2:
        ctx.fail(
            f"measure_database_read() returned {measured:.4f}, which is the read time in seconds "
            f"({actual_ms:.1f} ms). Multiply by 1000 to return milliseconds."
        )
    if not actual_ms * 0.9 <= measured <= actual_ms + 25:
        ctx.fail(
            f"measure_database_read() returned {measured:.3f} ms, but the database read took "
            f"{actual_ms:.1f} ms. Start the clock just before the call and stop it just after."
        )


@check("cache-timing", "Times one Valkey read, in milliseconds", hint=1)
def cache_timing(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "a cached value")
    value = ctx.call("measure_cache_read", ctx.client, KEY)
    gets = [c for c in ctx.learner_calls() if c.command == "GET"]
    if not gets:
        ctx.fail("measure_cache_read() sent no GET to Valkey: use client.get(key).")
    if len(gets) > 1:
        ctx.fail(
            f"measure_cache_read() sent {len(gets)} GETs; time exactly one so the number means "
            "one read."
        )
    measured = _milliseconds(ctx, "measure_cache_read", value)
    round_trip_ms = gets[0].latency_us / 1000
    if measured < round_trip_ms / 100:
        ctx.fail(
            f"measure_cache_read() returned {measured:.6f}; the GET's round trip alone took "
            f"{round_trip_ms:.3f} ms, so that looks like seconds. Multiply by 1000."
        )
    if not round_trip_ms * 0.5 <= measured <= round_trip_ms + 20:
        ctx.fail(
            f"measure_cache_read() returned {measured:.3f} ms, but the GET's round trip took "
            f"{round_trip_ms:.3f} ms. Time just the one client.get() call."
        )


@check("questions", "Answers the three questions", hint=3, lesson="Where Valkey sits")
def questions(ctx: CheckContext) -> None:
    answers = ctx.setting("ANSWERS")
    if not isinstance(answers, dict):
        ctx.fail("ANSWERS should stay a dict like {'q1': 'b', ...}.")
    for question, expected in QUESTIONS.items():
        given = str(answers.get(question, "")).strip().lower()
        if not given:
            ctx.fail(f"{question} has no answer yet: put one letter in ANSWERS[{question!r}].")
        if given not in ("a", "b", "c"):
            ctx.fail(f"{question}: {given!r} is not one of a, b, c.")
        if given != expected["answer"]:
            ctx.fail(f"{question}: {given!r} is not it: {expected[given]}.")
