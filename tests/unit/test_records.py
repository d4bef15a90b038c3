"""Call records: summaries cut long values, never show credentials; statistics are right."""

from __future__ import annotations

from valkey_workshop.timing.records import (
    CallLog,
    PipelineBatch,
    summarize,
    summarize_args,
    summarize_value,
)


def test_long_values_are_cut_with_their_length() -> None:
    text = summarize_args("SET", ("SET", "k", "x" * 500, "EX", 300))
    assert text.startswith("SET k xxxxxxxx")
    assert "(500 chars)" in text
    assert text.endswith("EX 300")


def test_passwords_are_never_shown() -> None:
    assert summarize_args("AUTH", ("AUTH", "default", "hunter2")) == "AUTH *** ***"
    assert "hunter2" not in summarize_args("CONFIG SET", ("CONFIG SET", "requirepass", "hunter2"))
    assert summarize_args("CONFIG SET", ("CONFIG SET", "maxmemory", "10mb")).endswith("10mb")
    assert "s3cret" not in summarize_args("HELLO", ("HELLO", 3, "AUTH", "u", "s3cret"))


def test_replies_read_like_python_values() -> None:
    assert summarize_value(None) == "None"
    assert summarize_value(True) == "True"
    assert summarize_value([1, 2, 3]) == "[3 items]"
    assert summarize_value({"a": 1}) == "{1 field}"
    assert summarize_value("ab") == "'ab'"


def test_pipeline_is_one_round_trip_of_many_commands() -> None:
    log = CallLog()
    batch = PipelineBatch((("SET", "a", 1), ("SET", "b", 2), ("GET", "a")), transaction=False)
    log.append_raw(batch, [True, True, "1"], 1_000, 51_000)
    (record,) = log.records()
    assert record.command == "PIPELINE"
    assert record.command_names == ("SET", "SET", "GET")
    assert record.args_summary == "3 commands: SET SET GET"
    assert record.reply_summary == "3 replies"
    assert record.latency_us == 50.0


def test_errors_are_recorded_as_errors() -> None:
    log = CallLog()
    log.append_raw(("GET", "k"), ValueError("boom"), 0, 10)
    (record,) = log.records()
    assert record.error == "ValueError: boom"
    assert record.reply_summary == "error: ValueError: boom"


def test_summary_percentiles_nearest_rank() -> None:
    log = CallLog()
    for i in range(1, 101):  # latencies 1..100 µs
        log.append_raw(("GET", "k"), "v", 0, i * 1_000)
    summary = summarize(log.records())
    assert (summary.count, summary.p50_us, summary.p99_us, summary.max_us) == (100, 50, 99, 100)
    assert summary.total_ms == 5.05
    assert summary.by_command == {"GET": 100}


def test_mark_reads_only_newer_calls() -> None:
    log = CallLog()
    log.append_raw(("GET", "a"), None, 0, 1)
    mark = log.mark()
    log.append_raw(("GET", "b"), None, 0, 1)
    assert [r.args for r in log.records(mark)] == [("GET", "b")]


def test_many_arguments_are_counted_not_listed() -> None:
    args = ("MSET", *[f"k{i}" for i in range(1000)])
    assert summarize_args("MSET", args) == "MSET k0 k1 k2 k3 k4 k5 … (+994 args)"


def test_a_command_of_a_dozen_arguments_is_shown_whole() -> None:
    # Which entries XREADGROUP asked for (">" new, "0" pending) is its last argument.
    args = ("XREADGROUP", "GROUP", "g", "c", "COUNT", "100", "STREAMS", "product:write-queue", ">")
    assert summarize_args("XREADGROUP", args) == (
        "XREADGROUP GROUP g c COUNT 100 STREAMS product:write-queue >"
    )
