"""What steps 05, 06 and 08 teach, proven against the live server (and the demos that show it).

Each test pairs a claim in a lesson, demo or the trainer notes with the server behaviour it
rests on, so that a server that behaves otherwise, or a text that drifts, fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey

from valkey_workshop.content import Module
from valkey_workshop.demo import Narration, TableShown, ValueShown, run_demo
from valkey_workshop.server.base import ServerInfo

NOTES = Path(__file__).resolve().parents[2] / "labs" / "module3" / "trainer-notes.md"


@pytest.fixture
def client(server: ServerInfo) -> Iterator[valkey.Valkey]:
    connection = valkey.Valkey.from_url(server.url, decode_responses=True)
    yield connection
    connection.close()


def _lesson(module3: Module, slug: str) -> str:
    return " ".join(module3.step(slug).lesson.read_text(encoding="utf-8").split())


def _notes_section(number: str) -> str:
    text = NOTES.read_text(encoding="utf-8")
    start = text.index(f"## Step {number}")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start : end if end != -1 else None].split())


def _gets(client: valkey.Valkey) -> int:
    return int(client.info("commandstats").get("cmdstat_get", {}).get("calls", 0))


# -- 05 tracking -------------------------------------------------------------------------


def test_cache_deny_list_names_commands_not_keys(
    module3: Module, server: ServerInfo, client: valkey.Valkey
) -> None:
    client.set("claims:deny", "1")
    reached = {}
    for listed in ("claims:deny", "GET"):
        cached = valkey.Valkey.from_url(
            server.url,
            protocol=3,
            cache_enabled=True,
            decode_responses=True,
            cache_deny_list=[listed],
        )
        try:
            cached.get("claims:deny")
            before = _gets(client)
            for _ in range(5):
                cached.get("claims:deny")
            reached[listed] = _gets(client) - before
        finally:
            cached.close()
    client.delete("claims:deny")
    assert reached == {"claims:deny": 0, "GET": 5}  # a key name changes nothing; GET does
    lesson = _lesson(module3, "tracking")
    assert "name **commands** (`GET`, `HGETALL`), not keys" in lesson
    assert "a second client without a cache; or, with a local cache of your own, use `OPTIN`" in (
        lesson
    )
    assert "`cache_deny_list` for keys that must be exact" not in lesson


def test_bcast_keeps_a_prefix_table_and_pushes_unread_keys(
    module3: Module, server: ServerInfo, client: valkey.Valkey
) -> None:
    before = int(client.info("stats")["tracking_total_prefixes"])
    tracking = valkey.Valkey.from_url(
        server.url, protocol=3, single_connection_client=True, decode_responses=True
    )
    try:
        tracking.client_tracking_on(bcast=True, prefix=["claims:a:", "claims:b:"])
        assert int(client.info("stats")["tracking_total_prefixes"]) == before + 2
        pushed: list[str] = []
        connection = tracking.connection
        assert connection is not None
        connection._parser.set_invalidation_push_handler(lambda m: pushed.extend(m[1] or []))
        client.set("claims:b:never-read", "x")
        assert connection.can_read(timeout=1)
        connection.read_response(push_request=True)
        assert pushed == ["claims:b:never-read"]
    finally:
        tracking.close()
        client.delete("claims:b:never-read")
    overlapping = valkey.Valkey.from_url(
        server.url, protocol=3, single_connection_client=True, decode_responses=True
    )
    try:
        with pytest.raises(valkey.ResponseError, match="overlap"):
            overlapping.client_tracking_on(bcast=True, prefix=["claims:a:", "claims:a:b"])
    finally:
        overlapping.close()
    lesson = _lesson(module3, "tracking")
    assert "one client's prefixes must not overlap" in lesson
    assert "`tracking_total_prefixes`" in lesson
    assert "no memory per key a client reads" in lesson
    assert "costs the server no memory per client" not in lesson
    assert "`tracking_total_prefixes`" in _notes_section("05")


def test_tracking_demo_local_hits_never_reach_the_server(
    module3: Module, server: ServerInfo
) -> None:
    events: list[object] = []
    run_demo(module3.step("tracking"), server.url, events.append, quick=True)
    table = next(e for e in events if isinstance(e, TableShown) and "GETs" in e.title)
    rows = {row[0]: row for row in table.rows}
    assert rows["cached (local hit)"][2] == "0"  # cmdstat_get did not move
    assert rows["plain (round trip)"][2] == rows["plain (round trip)"][2].strip() != "0"
    shown = {e.label: e.value for e in events if isinstance(e, ValueShown)}
    prefixes = str(shown["INFO tracking_total_prefixes (the server's prefix table)"])
    before, now = (int(n) for n in re.findall(r"\d+", prefixes))
    assert now == before + 1
    received = [
        e.value
        for e in events
        if isinstance(e, ValueShown) and e.label == "invalidation pushes received"
    ]
    # BCAST: the unread key under the prefix, not the one outside; OPTIN: the announced read.
    assert received == [["workshop:demo:tracking:bcast:P1"], ["workshop:demo:tracking:price"]]


# -- 06 pipelining -----------------------------------------------------------------------


def test_queue_time_errors_abort_run_time_errors_do_not(
    module3: Module, client: valkey.Valkey, server: ServerInfo
) -> None:
    client.delete("claims:tx:a", "claims:tx:b")
    raw = valkey.Valkey.from_url(server.url, decode_responses=True, single_connection_client=True)
    try:
        raw.execute_command("MULTI")
        raw.execute_command("SET", "claims:tx:a", "1")
        with pytest.raises(valkey.ResponseError, match="wrong number of arguments"):
            raw.execute_command("SET", "claims:tx:b")
        with pytest.raises(valkey.exceptions.ExecAbortError):
            raw.execute_command("EXEC")
    finally:
        raw.close()
    assert client.get("claims:tx:a") is None  # EXECABORT: nothing applied
    tx = client.pipeline(transaction=True)
    tx.set("claims:tx:a", "text")
    tx.incr("claims:tx:a")
    tx.set("claims:tx:b", "applied")
    replies = tx.execute(raise_on_error=False)
    assert isinstance(replies[1], valkey.ResponseError)
    assert client.get("claims:tx:b") == "applied"  # run-time error: no rollback
    client.delete("claims:tx:a", "claims:tx:b")
    lesson = _lesson(module3, "pipelining")
    assert "`EXEC` answers `EXECABORT` and nothing applies" in lesson
    assert "does **not** roll the others back" in lesson


def test_pipeline_defaults_to_a_transaction(module3: Module, client: valkey.Valkey) -> None:
    def counts() -> tuple[int, int]:
        stats = client.info("commandstats")
        return (
            int(stats.get("cmdstat_multi", {}).get("calls", 0)),
            int(stats.get("cmdstat_exec", {}).get("calls", 0)),
        )

    before = counts()
    pipe = client.pipeline()
    pipe.set("claims:pipe", "1")
    pipe.execute()
    after_default = counts()
    pipe = client.pipeline(transaction=False)
    pipe.set("claims:pipe", "2")
    pipe.execute()
    client.delete("claims:pipe")
    assert after_default == (before[0] + 1, before[1] + 1)
    assert counts() == after_default
    assert "**default is `transaction=True`**" in _lesson(module3, "pipelining")


def test_pipelining_claims_are_measured_ranges_not_hundreds_of_times(module3: Module) -> None:
    lesson = _lesson(module3, "pipelining")
    notes = _notes_section("06")
    for text in (lesson, notes):
        assert "hundreds of times" not in text
        assert "70-100x" not in text and "170-280x" not in text  # not what the demo measures
    assert "(RTT + client time) ÷ (RTT/B + client time)" in lesson
    assert "N/B \u00d7 RTT + N \u00d7 (server time + client time)" in lesson
    # Ranges, not one machine's single numbers, for machine-dependent results.
    assert not re.search(r"~\d+ ms", notes)


def test_pipelining_demo_explains_the_gap_and_shows_execabort(
    module3: Module, server: ServerInfo
) -> None:
    events: list[object] = []
    run_demo(module3.step("pipelining"), server.url, events.append, quick=True)
    said = " ".join(e.text for e in events if isinstance(e, Narration))
    shown = {e.label: e.value for e in events if isinstance(e, ValueShown)}
    cost = re.search(r"≈ \*\*([\d.]+) µs per command\*\*", said)
    assert cost is not None and 0 < float(cost.group(1)) < 1000, said
    assert "which pipelining does not remove" in said
    assert re.search(r"about \d+x, not 1,000x", said)
    assert "MULTI/EXEC" in said  # the pipeline-against-transaction comparison is explained
    assert "EXECABORT" in str(shown["EXEC"])
    assert shown["the first SET's key after EXEC (nothing applied)"] is None


# -- 08 write-patterns ---------------------------------------------------------------------


def test_write_through_order_and_the_two_writer_race_are_taught(module3: Module) -> None:
    lesson = _lesson(module3, "write-patterns")
    assert "cache first, and a refused" not in lesson
    assert "**the database first, then the cache**" in lesson
    assert "two writers can interleave" in lesson
    assert "two writers can interleave" in _notes_section("08")


def test_set_ifeq_exists_where_the_lesson_says(module3: Module, client: valkey.Valkey) -> None:
    version = client.info("server").get("valkey_version")
    if version is None or tuple(int(p) for p in str(version).split(".")[:2]) < (8, 1):
        pytest.skip(f"SET IFEQ is taught for Valkey 8.1 and later; this server is {version}")
    client.set("claims:ifeq", "v1")
    assert client.execute_command("SET", "claims:ifeq", "v2", "IFEQ", "v0") is None
    assert client.execute_command("SET", "claims:ifeq", "v2", "IFEQ", "v1")
    assert client.get("claims:ifeq") == "v2"
    client.delete("claims:ifeq")
    assert client.execute_command("SET", "claims:ifeq-missing", "v", "IFEQ", "v0") is None
    assert not client.exists("claims:ifeq-missing")  # IFEQ never creates a key
    with pytest.raises(valkey.ResponseError, match="syntax"):
        client.execute_command("SET", "claims:ifeq-missing", "v", "NX", "IFEQ", "v0")
    lesson = _lesson(module3, "write-patterns")
    assert "On Valkey 8.1 and later `SET key new IFEQ <what you read>`" in lesson
    assert "it never creates a missing key, and `NX` cannot be combined with it" in lesson


def test_write_back_demo_times_the_flush_alone(module3: Module, server: ServerInfo) -> None:
    events: list[object] = []
    run_demo(module3.step("write-patterns"), server.url, events.append, db_latency=0.1)
    shown = {e.label: e.value for e in events if isinstance(e, ValueShown)}
    assert "database caught up after" not in shown
    took = re.match(
        r"([\d.]+) s \((\d+) database writes? of 0.1 s each\)", str(shown["the flush took"])
    )
    assert took is not None, shown["the flush took"]
    writes = int(took.group(2))
    # The flush alone: its database writes and less than one more database call (a display
    # read of 0.1 s would be one); the rest is the machine's own time, which load stretches.
    assert writes * 0.1 <= float(took.group(1)) < (writes + 1) * 0.1


def test_xack_does_not_delete(module3: Module, client: valkey.Valkey) -> None:
    client.delete("claims:queue")
    entry = client.xadd("claims:queue", {"change": "1"})
    client.xgroup_create("claims:queue", "claims", id="0")
    client.xreadgroup("claims", "me", {"claims:queue": ">"})
    assert client.xack("claims:queue", "claims", entry) == 1
    assert client.xpending("claims:queue", "claims")["pending"] == 0
    assert client.xlen("claims:queue") == 1  # acknowledged, still there
    client.delete("claims:queue")
    assert "`XACK` does not delete" in _lesson(module3, "write-patterns")
