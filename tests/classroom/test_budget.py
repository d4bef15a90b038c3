"""A security tester's second round (holding only the join code), each on a real class server:
the class-wide memory budget, a full class, the record after `class end`, check ids the
module does not have, and what the board shows of extreme values."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey
from typer.testing import CliRunner

from valkey_workshop.classroom.board import ClassBoard, check_names
from valkey_workshop.classroom.config import events_key, inbox_key, joins_key
from valkey_workshop.classroom.events import MAX_STORED_EVENT_BYTES
from valkey_workshop.classroom.membership import ClassPublisher, Membership, step_payload
from valkey_workshop.classroom.relay import MAX_LEARNERS_LIMIT, STREAM_MAX_EVENTS
from valkey_workshop.classroom.serve import ServedClass, serve_class
from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module
from valkey_workshop.errors import ServerError
from valkey_workshop.render.board import board_view
from valkey_workshop.render.console import render_text
from valkey_workshop.server.embedded import free_loopback_port

runner = CliRunner()
MODULE3_CHECKS = check_names(load_module("module3"))


def real_check(number: int) -> str:
    return sorted(check for step, check in MODULE3_CHECKS if step == number)[0]


def payload(number: int, passed: bool, attempt: int = 1) -> dict[str, str]:
    return step_payload(
        kind="check", module="module3", number=number, slug=f"s{number}", passed=passed,
        checks=[(real_check(number), passed)], attempt=attempt, seconds=5.0, hints=0,
        backend="embedded", server_version="9.1.2",
    )  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedClass]:
    listen = f"127.0.0.1:{free_loopback_port()}"
    with serve_class(
        tmp_path / "class", listen=listen, advertise=None, module="module3", max_learners=2
    ) as running:
        yield running


def admin(served: ServedClass) -> valkey.Valkey:
    return valkey.Valkey.from_url(served.config.own_admin_url(), decode_responses=True)


def as_learner(membership: Membership) -> valkey.Valkey:
    return valkey.Valkey(
        host=membership.host, port=membership.port, username=membership.user,
        password=membership.secret, decode_responses=True,
    )  # fmt: skip


def board_of(served: ServedClass) -> ClassBoard:
    board = ClassBoard(served.config, load_module("module3"), MODULE3_CHECKS)
    client = valkey.Valkey.from_url(served.server.url)
    board.refresh(client)
    client.close()
    return board


def test_the_stream_full_of_the_largest_events_stays_well_under_the_memory_cap(
    served: ServedClass,
) -> None:
    """What the relay appends at worst (its MAXLEN of events of the largest size it stores)
    plus every seat's inbox at the largest value the server takes stays under the cap."""
    client = admin(served)
    largest = {
        "v": "2", "id": "a" * 32, "kind": "check", "module": "module3", "step": "2",
        "learner_id": "b" * 16, "learner": "🦊" * 40,
    }  # fmt: skip
    filler = MAX_STORED_EVENT_BYTES - sum(len(k) + len(v.encode()) for k, v in largest.items())
    largest["checks"] = "c" * filler
    for _ in range(STREAM_MAX_EVENTS * 11 // 10 // 500):
        pipe = client.pipeline(transaction=False)
        for _ in range(500):
            pipe.xadd(
                events_key(served.config.class_id), largest, maxlen=STREAM_MAX_EVENTS
            )  # the relay's trim; an OOM refusal fails the test here
        pipe.execute()
    memory = client.info("memory")
    used, cap = int(memory["used_memory"]), int(memory["maxmemory"])
    inboxes = MAX_LEARNERS_LIMIT * 1024 * 1024  # proto-max-bulk-len: one value per seat
    assert used + inboxes < cap * 0.85, (used, cap)
    assert client.set(f"workshop-class:{served.config.class_id}:probe", "still takes writes")
    client.close()


def test_a_batch_whose_xadd_fails_stays_in_the_inbox_is_counted_and_shown(
    served: ServedClass, tmp_path: Path
) -> None:
    publisher = ClassPublisher(tmp_path / "ada")
    ada = publisher.join(served.config.join_code(), "Ada")
    assert served.relay.wait_passes(2)
    served.relay.stop()  # the test drives the relay's passes itself
    publisher.publish([payload(2, False)], background=False)
    key = inbox_key(ada.class_id, ada.learner_id)
    client = admin(served)
    assert client.exists(key)
    client.config_set("maxmemory", "1mb")  # the server at its cap: every XADD refused
    try:
        served.relay.drain_once()
        assert client.exists(key), "the batch was deleted though its XADD failed"
        assert served.relay.unstored == 1
        board = board_of(served).snapshot()
        assert board.memory_full
        assert "memory is full" in render_text(board_view(board), 80)
    finally:
        client.config_set("maxmemory", "512mb")
    served.relay.drain_once()
    served.relay._state_saved = served.relay._alive_at = 0.0  # next pass saves
    served.relay.drain_once()
    assert not client.exists(key)
    client.close()
    board = board_of(served).snapshot()
    (row,) = board.learners
    assert row.steps[2].status == "failed" and board.unstored == 1
    assert "refused to store 1 result" in render_text(board_view(board), 80)


def test_a_full_class_says_so_in_join_and_on_the_board_and_remove_frees_a_seat(
    served: ServedClass, hermetic: Path, tmp_path: Path
) -> None:
    code = served.config.join_code()
    folder = ["--class-dir", str(served.folder)]
    fakes = [ClassPublisher(tmp_path / f"fake{i}").join(code, f"fake {i}") for i in range(2)]
    joined = runner.invoke(app, ["join", code.encode(), "--name", "Ada"])
    assert joined.exit_code == 2, joined.output
    assert "the class is full" in joined.stderr and "Traceback" not in joined.output
    assert "is `workshop class serve` running" not in joined.stderr
    snapshot = json.loads(runner.invoke(app, ["class", "board", "--json", *folder]).stdout)
    assert snapshot["full"] and snapshot["max_learners"] == 2
    assert snapshot["rejected_joins"] == 1 and snapshot["rejected"] >= 1
    board_text = render_text(board_view(board_of(served).snapshot()), 80)
    assert "The class is full (2 seats)" in board_text
    removed = runner.invoke(app, ["class", "remove", "fake 0", *folder])
    assert removed.exit_code == 0, removed.output
    deadline = time.monotonic() + 60
    while True:  # the relay deletes the user within a second or so
        try:
            as_learner(fakes[0]).ping()
        except valkey.AuthenticationError:
            break
        assert time.monotonic() < deadline and served.relay.wait_passes(1)
    joined = runner.invoke(app, ["join", code.encode(), "--name", "Ada"])
    assert joined.exit_code == 0, joined.output
    assert served.relay.wait_passes(2)
    names = {row.name for row in board_of(served).snapshot().learners}
    assert names == {"fake 1", "Ada"}  # the removed row is hidden
    assert runner.invoke(app, ["class", "remove", "nobody", *folder]).exit_code == 2


def test_junk_and_take_over_join_requests_reach_the_boards_rejected_count(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    ada = ClassPublisher(tmp_path / "ada").join(code, "Ada")
    joiner = valkey.Valkey(
        host=code.host, port=code.port, username=code.join_user, password=code.password
    )
    joiner.rpush(joins_key(code.class_id), "junk", json.dumps({"id": "x"}))
    joiner.rpush(
        joins_key(code.class_id),
        json.dumps({"id": ada.learner_id, "name": "Ada", "hash": "0" * 64}),
    )
    joiner.close()
    assert served.relay.wait_passes(3)
    board = board_of(served).snapshot()
    assert board.rejected_joins == 3 and board.rejected == 3


def test_class_end_keeps_the_final_board_and_export_reads_it(
    served: ServedClass, tmp_path: Path
) -> None:
    folder = ["--class-dir", str(served.folder)]
    publisher = ClassPublisher(tmp_path / "ada")
    publisher.join(served.config.join_code(), "Ada")
    publisher.publish([payload(2, True)], background=False)
    assert served.relay.wait_passes(3)
    ended = runner.invoke(app, ["class", "end", *folder])
    assert ended.exit_code == 0, ended.output
    assert "ended.json" in ended.stdout
    with pytest.raises(valkey.AuthenticationError):
        valkey.Valkey.from_url(served.server.url).ping()  # the trainer's user is gone
    exported = runner.invoke(app, ["class", "export", *folder])
    assert exported.exit_code == 0, exported.output
    assert "Ada," in exported.stdout and ",02,cache-aside,passed," in exported.stdout
    board = runner.invoke(app, ["class", "board", "--json", *folder])
    assert board.exit_code == 0, board.output
    (row,) = json.loads(board.stdout)["learners"]
    assert row["name"] == "Ada" and row["steps"]["02"]["status"] == "passed"
    assert (served.folder / "ended.json").stat().st_mode & 0o777 == 0o600


def test_check_ids_the_module_does_not_have_never_reach_failing_most(
    served: ServedClass, tmp_path: Path
) -> None:
    eve = ClassPublisher(tmp_path / "eve").join(served.config.join_code(), "Eve")
    bogus = {**payload(2, False), "id": "ab" * 16}
    bogus["checks"] = json.dumps([["RM-RF-TRAINER-LAPTOP", 0]])
    client = as_learner(eve)
    client.set(inbox_key(eve.class_id, eve.learner_id), json.dumps([bogus]))
    client.close()
    assert served.relay.wait_passes(3)
    stream = valkey.Valkey.from_url(served.server.url, decode_responses=True)
    kinds = [fields["kind"] for _, fields in stream.xrange(events_key(eve.class_id))]
    assert kinds == ["join"]
    # Written straight to the stream (not through the relay): the board shows it nowhere.
    stream.xadd(events_key(eve.class_id), {**bogus, "learner_id": eve.learner_id})
    stream.close()
    board = board_of(served).snapshot()
    assert board.rejected == 1
    assert all(item.check != "RM-RF-TRAINER-LAPTOP" for item in board.failing)
    assert "RM-RF" not in render_text(board_view(board), 80)


def test_attempts_hands_before_a_step_and_last_seen_on_the_board(
    served: ServedClass, tmp_path: Path
) -> None:
    key = events_key(served.config.class_id)
    client = valkey.Valkey.from_url(served.server.url, decode_responses=True)
    dave, bo = "d" * 16, "b" * 16
    for learner_id, name in ((dave, "Dave"), (bo, "Bo")):
        client.xadd(key, {"v": "2", "id": learner_id * 2, "kind": "join",
                          "learner_id": learner_id, "learner": name})  # fmt: skip
    client.xadd(key, {"v": "2", "id": "1" * 32, "kind": "help", "learner_id": dave})
    client.xadd(key, {**payload(2, False, 150), "id": "2" * 32, "learner_id": bo})
    client.xadd(key, {**payload(2, False, 999_999), "id": "3" * 32, "learner_id": bo})
    client.close()
    board = board_of(served).snapshot()
    assert board.rejected == 1  # 999,999 attempts: over the bound
    text = render_text(board_view(board), 80)
    assert "Hands up: Dave (not started, 0 min)" in text
    assert "✗99+" in text and "✗99 " not in text
    lines = text.splitlines()
    header = next(line for line in lines if "learner" in line and "now" in line)
    assert "seen" in header
    bo_line = next(line for line in lines if " Bo " in line)
    seen = header.index("seen")
    assert re.fullmatch(r" *\d{1,2}s", bo_line[seen - 1 : seen + 4])  # seconds, under "seen"
    assert all(len(line) <= 80 for line in lines)


def test_a_join_that_waits_on_a_busy_class_server_says_so_not_is_it_running(
    served: ServedClass, tmp_path: Path
) -> None:
    served.relay._joins.set_to(-1_000.0)  # as after a flood of joins: no class-wide credit
    with pytest.raises(ServerError) as refused:
        ClassPublisher(tmp_path / "ada").join(served.config.join_code(), "Ada", wait_seconds=1)
    assert "many join requests are waiting" in str(refused.value)
    assert "is `workshop class serve` running" not in str(refused.value)


def test_a_join_list_of_large_values_is_emptied_and_counted(served: ServedClass) -> None:
    served.relay._joins.set_to(-1_000.0)  # no credit: the list is not drained, only measured
    code = served.config.join_code()
    joiner = valkey.Valkey(
        host=code.host, port=code.port, username=code.join_user, password=code.password
    )
    joiner.rpush(joins_key(code.class_id), *(["x" * 1_000_000] * 20))
    joiner.close()
    client = admin(served)
    deadline = time.monotonic() + 60
    while client.exists(joins_key(code.class_id)):
        assert time.monotonic() < deadline and served.relay.wait_passes(1)
    client.close()
    assert served.relay.wait_passes(3)
    assert board_of(served).snapshot().rejected_joins == 20
