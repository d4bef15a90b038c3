"""The timed client against a real server: every round trip recorded, pipelines once."""

from __future__ import annotations

import time

import pytest
import valkey

from valkey_workshop.server.base import ServerInfo
from valkey_workshop.timing import connect, summarize


def test_every_call_is_recorded_with_a_plausible_latency(server: ServerInfo) -> None:
    client = connect(server.url)
    started = time.perf_counter_ns()
    client.set("timed:a", "1", ex=60)
    assert client.get("timed:a") == "1"
    elapsed = time.perf_counter_ns() - started
    records = client.call_log.records()
    assert [r.command for r in records] == ["SET", "GET"]
    assert records[0].args_summary == "SET timed:a 1 EX 60"
    assert records[1].reply_summary == "'1'"
    assert all(0 < r.latency_ns < elapsed for r in records)
    assert sum(r.latency_ns for r in records) <= elapsed
    client.delete("timed:a")
    client.close()


@pytest.mark.parametrize(("transaction", "name"), [(False, "PIPELINE"), (True, "MULTI/EXEC")])
def test_a_pipeline_is_one_round_trip(server: ServerInfo, transaction: bool, name: str) -> None:
    client = connect(server.url)
    pipe = client.pipeline(transaction=transaction)
    for i in range(5):
        pipe.set(f"timed:p{i}", i)
    pipe.execute()
    records = client.call_log.records()
    assert len(records) == 1
    assert records[0].command == name
    assert records[0].command_names == ("SET",) * 5
    assert summarize(records).commands == 5
    client.delete(*(f"timed:p{i}" for i in range(5)))
    client.close()


def test_errors_are_recorded_and_still_raised(server: ServerInfo) -> None:
    client = connect(server.url)
    with pytest.raises(valkey.ResponseError):
        client.execute_command("NO-SUCH-COMMAND")
    (record,) = client.call_log.records()
    assert record.error is not None and "unknown command" in record.error
    client.close()


def test_a_long_reply_is_whole_for_the_caller_and_cut_in_the_log(server: ServerInfo) -> None:
    """The log keeps KEPT_REPLY_ITEMS items of a reply and its length: a loop over HKEYS of a
    200,000-field hash once filled the check process's memory with kept replies."""
    from valkey_workshop.timing.records import KEPT_REPLY_ITEMS  # noqa: PLC0415 - this test only

    client = connect(server.url)
    fields = {f"f{i}": "v" for i in range(KEPT_REPLY_ITEMS * 3)}
    client.hset("timed:long", mapping=fields)
    keys, everything = client.hkeys("timed:long"), client.hgetall("timed:long")
    assert len(keys) == len(fields) and everything == fields
    _, listed, mapped = client.call_log.records()
    assert len(listed.reply) == KEPT_REPLY_ITEMS  # type: ignore[arg-type] # a LongReply
    assert listed.reply_summary == "[3000 items]"
    assert mapped.reply_summary == "{3000 fields}"
    client.delete("timed:long")
    client.close()
