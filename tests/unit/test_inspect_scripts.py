"""inspect's view of script calls: the keys a script carries, and valkey-py's script loading."""

from __future__ import annotations

from valkey_workshop.checking import inspect
from valkey_workshop.timing.records import CallRecord, PipelineBatch


def call(*args: object, error: str | None = None) -> CallRecord:
    return CallRecord(str(args[0]), args, None, error, 0, 1)


def test_a_script_call_carries_its_keys_and_arguments() -> None:
    assert inspect.script_arguments(("EVAL", "return 1", 2, "k1", "k2", "a")) == ("k1", "k2", "a")
    assert inspect.script_arguments(("FCALL", "load", 1, b"k1")) == ("k1",)
    assert inspect.script_arguments(("SET", "k", "v")) == ()


def test_valkey_pys_script_loading_is_not_a_data_round_trip() -> None:
    noscript = call("EVALSHA", "ab12", 1, "k", error="NoScriptError: No matching script.")
    load = call("SCRIPT LOAD", "return 1")
    retried = call("EVALSHA", "ab12", 1, "k")
    assert inspect.data_round_trips([noscript, load, retried]) == [retried]
    assert inspect.is_script_loading(call("SCRIPT", "LOAD", "return 1"))
    failed = call("EVALSHA", "ab12", 1, "k", error="ResponseError: WRONGTYPE")
    assert not inspect.is_script_loading(failed)


def test_each_command_of_a_pipeline_gets_its_own_reply() -> None:
    reads = (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "q", "0"), ("XACK", "q", "g", "1-0"))
    batch = PipelineBatch(reads, transaction=False)
    pipeline = CallRecord("XREADGROUP", reads[0], [[["q", []]], 1], None, 0, 1, batch)
    single = call("GET", "k")
    assert inspect.replies([single, pipeline]) == [
        ("GET", ("GET", "k"), None),
        ("XREADGROUP", reads[0], [["q", []]]),
        ("XACK", reads[1], 1),
    ]
    # A pipeline that failed as a whole: its commands are there, without replies.
    failed = CallRecord("XREADGROUP", reads[0], None, "ConnectionError", 0, 1, batch)
    assert [reply for _, _, reply in inspect.replies([failed])] == [None, None]
