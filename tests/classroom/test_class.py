"""The classroom on a real class server (embedded Valkey on loopback): ACL users, learners
publishing through the real client code, the board's counts, faults and bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import valkey
from typer.testing import CliRunner

from tests.conftest import pid_alive, wait_until
from valkey_workshop.classroom.board import ClassBoard, check_names
from valkey_workshop.classroom.config import (
    CLASS_FILE,
    ClassConfig,
    JoinCode,
    announce_key,
    events_key,
    inbox_key,
    joins_key,
)
from valkey_workshop.classroom.membership import (
    OUTBOX_FILE,
    ClassPublisher,
    Membership,
    step_payload,
)
from valkey_workshop.classroom.serve import ServedClass, serve_class
from valkey_workshop.cli.app import app
from valkey_workshop.content import Module, load_module
from valkey_workshop.render.board import board_view
from valkey_workshop.render.console import render_text
from valkey_workshop.server.embedded import free_loopback_port

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "class"


@pytest.fixture
def served(folder: Path) -> Iterator[ServedClass]:
    listen = f"127.0.0.1:{free_loopback_port()}"
    with serve_class(folder, listen=listen, advertise=None, module="module3") as running:
        yield running


def learner_client(membership: Membership) -> valkey.Valkey:
    """A connection as the learner's own user, as its `workshop` process makes it."""
    return valkey.Valkey(
        host=membership.host, port=membership.port, username=membership.user,
        password=membership.secret, decode_responses=True,
    )  # fmt: skip


def settle(served: ServedClass, publishers: list[ClassPublisher], timeout: float = 120) -> None:
    """Wait until every publisher's outbox is sent and the relay has taken every batch."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = [p for p in publishers if p.pending()]
        for publisher in waiting:
            publisher.publish([], background=False)
        assert served.relay.wait_passes(2)
        if not waiting:
            return
        assert time.monotonic() < deadline, "the class never took every batch"


MODULE3_CHECKS = check_names(load_module("module3"))


def first_check(number: int) -> str:
    """A real check id of step ``number`` (the class server refuses any other)."""
    return sorted(check for step, check in MODULE3_CHECKS if step == number)[0]


def second_check(number: int) -> str:
    return sorted(check for step, check in MODULE3_CHECKS if step == number)[1]


def payload(number: int, passed: bool, attempt: int) -> dict[str, str]:
    return step_payload(
        kind="check", module="module3", number=number, slug=f"s{number}", passed=passed,
        checks=[(first_check(number), True), (second_check(number), passed)], attempt=attempt, seconds=60.0 * attempt,
        hints=0, backend="embedded", server_version="9.1.2",
    )  # fmt: skip


def board_for(served: ServedClass, module: Module) -> ClassBoard:
    board = ClassBoard(served.config, module)
    client = valkey.Valkey.from_url(served.server.url)
    try:
        board.refresh(client)
    finally:
        client.close()
    return board


def test_learner_credentials_may_only_write_their_inbox_and_read_the_announcement(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    class_id = served.config.class_id
    trainer = valkey.Valkey.from_url(served.server.url, decode_responses=True)
    trainer.set(announce_key(class_id), "step 02 now")
    trainer.set(f"workshop-class:{class_id}:secret", "x")
    ada = ClassPublisher(tmp_path / "ada").join(code, "Ada")
    bo = ClassPublisher(tmp_path / "bo").join(code, "Bo")
    learner = learner_client(ada)
    assert learner.set(inbox_key(class_id, ada.learner_id), "[]", nx=True)
    assert learner.get(announce_key(class_id)) == "step 02 now"
    refused = [
        lambda: learner.xadd(events_key(class_id), {"kind": "probe"}),
        lambda: learner.xrange(events_key(class_id)),
        lambda: learner.xread({events_key(class_id): "0"}),
        lambda: learner.get(inbox_key(class_id, ada.learner_id)),
        lambda: learner.set(inbox_key(class_id, bo.learner_id), "[]"),
        lambda: learner.rpush(joins_key(class_id), "{}"),
        lambda: learner.get(f"workshop-class:{class_id}:secret"),
        lambda: learner.config_get("*"),
        learner.flushall,
        lambda: learner.keys("*"),
        lambda: learner.set(announce_key(class_id), "mine"),
        lambda: learner.execute_command("ACL", "SETUSER", "x", "on"),
        lambda: learner.execute_command("FCALL", "x", 0),
        lambda: learner.eval("return 1", 0),
    ]
    for call in refused:
        with pytest.raises(valkey.exceptions.NoPermissionError):
            call()
    joiner = valkey.Valkey(
        host=code.host, port=code.port, username=code.join_user, password=code.password
    )
    assert joiner.rpush(joins_key(class_id), "not json")  # refused later by the relay
    for call in (
        lambda: joiner.xadd(events_key(class_id), {"kind": "probe"}),
        lambda: joiner.lrange(joins_key(class_id), 0, -1),
        lambda: joiner.set(inbox_key(class_id, ada.learner_id), "[]"),
    ):
        with pytest.raises(valkey.exceptions.NoPermissionError):
            call()
    # The default user cannot log in, with or without the old password.
    with pytest.raises((valkey.AuthenticationError, valkey.exceptions.ResponseError)):
        valkey.Valkey(host="127.0.0.1", port=code.port).ping()
    # The trainer reads the events (two joins); the class file is private to its owner.
    assert served.relay.wait_passes(2)
    assert trainer.xlen(events_key(class_id)) == 2
    assert (served.folder / CLASS_FILE).stat().st_mode & 0o777 == 0o600
    for client in (trainer, learner, joiner):
        client.close()


def test_join_code_holds_nothing_that_grants_more(served: ServedClass) -> None:
    code = served.config.join_code().encode()
    decoded = JoinCode.decode(code)
    assert decoded.password == served.config.learner_password
    assert served.config.trainer_password not in code
    raw = json.dumps(decoded.__dict__)
    assert served.config.trainer_password not in raw


def test_200_learners_publish_and_the_board_counts_every_event_once(
    served: ServedClass, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKSHOP_CLASS_SENDER", "0")  # settle() sends what waits
    code = served.config.join_code()
    learners = 200
    steps_each = 3
    publishers = [ClassPublisher(tmp_path / f"learner{index}") for index in range(learners)]

    def join(chunk: list[int]) -> None:
        for index in chunk:
            publishers[index].join(code, f"learner {index:03d}")

    joining = [
        threading.Thread(target=join, args=(list(range(i, learners, 10)),)) for i in range(10)
    ]
    for thread in joining:
        thread.start()
    for thread in joining:
        thread.join()
    failures: list[str] = []
    # Only ends a broken server's test before pytest's time-out; not a timing claim (a loaded
    # 2-core machine needs well under this).
    deadline = time.monotonic() + 240

    def publish(chunk: list[ClassPublisher]) -> None:
        for number in range(1, steps_each + 1):
            for publisher in chunk:
                if time.monotonic() > deadline:
                    failures.append("deadline")
                    return
                outcome = publisher.publish([payload(number, number != 2, 1)])
                if outcome is None or outcome.problem:
                    failures.append(str(outcome))

    threads = [threading.Thread(target=publish, args=(publishers[i::20],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    settle(served, publishers)
    board = board_for(served, load_module("module3"))
    snapshot = board.snapshot()
    data: Any = json.loads(json.dumps(snapshot.to_json()))  # as `class board --json` prints it
    assert data["events"] == learners * (steps_each + 1)  # the joins count as events too
    assert len(data["learners"]) == learners
    columns = {column["step"]: column for column in data["steps"]}
    assert columns[1]["passed"] == learners and columns[2]["failed"] == learners
    # Everyone failed 02 and then passed 03: now on 04, so 02's checks are not "failing now".
    assert data["failing_checks"] == []
    assert {row["current_step"] for row in data["learners"]} == {4}
    # Re-reading the whole stream (a fresh board) gives the same counts.
    assert (
        board_for(served, load_module("module3")).snapshot().to_json()["events"] == (data["events"])
    )


def test_a_class_server_killed_mid_class_loses_nothing(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKSHOP_CLASS_SENDER", "0")  # the next check sends what waits
    listen = f"127.0.0.1:{free_loopback_port()}"
    module = load_module("module3")
    workdirs = [tmp_path / f"w{i}" for i in range(5)]
    with serve_class(folder, listen=listen, advertise=None, module="module3") as first:
        code = first.config.join_code()
        publishers = [ClassPublisher(w) for w in workdirs]
        for i, publisher in enumerate(publishers):
            publisher.join(code, f"learner {i}")
            assert publisher.publish([payload(1, True, 1)]) is not None
        settle(first, publishers)
        pid = _server_pid(first)
        os.kill(pid, signal.SIGKILL)  # the trainer's laptop lid closes on the class server
        wait_until(lambda: not pid_alive(pid), "the class server outlived SIGKILL")
        # Learners keep working: their results wait in the outbox, one line says so.
        for publisher in publishers:
            outcome = publisher.publish([payload(2, False, 1)])
            assert outcome is not None and outcome.problem is not None
            assert "paused" in (outcome.line or "")
        assert all((w / OUTBOX_FILE).is_file() for w in workdirs)
    with serve_class(folder, listen=None, advertise=None, module="module3") as second:
        assert second.resumed and second.config.class_id == first.config.class_id
        for publisher in publishers:
            outcome = publisher.publish([payload(2, True, 2)])
            assert outcome is not None and outcome.problem is None and outcome.sent == 2
        assert not any((w / OUTBOX_FILE).exists() for w in workdirs)
        settle(second, publishers)
        snapshot = board_for(second, module).snapshot()
    # 5 joins + 5 first results before the kill (kept on disk) + 5 queued + 5 after.
    assert snapshot.events == 20
    assert {row.steps[2].status for row in snapshot.learners} == {"passed"}
    assert {row.steps[2].attempts for row in snapshot.learners} == {2}


def _server_pid(served: ServedClass) -> int:
    client = valkey.Valkey.from_url(served.server.url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def test_join_with_bad_input_exits_2_and_check_still_runs_when_the_class_is_gone(
    served: ServedClass, hermetic: Path
) -> None:
    bad = runner.invoke(app, ["join", "not-a-code", "--name", "Ada"])
    assert bad.exit_code == 2 and "not a join code" in bad.stderr
    damaged = runner.invoke(app, ["join", "wsj1-AAAA", "--name", "Ada"])
    assert damaged.exit_code == 2 and "damaged" in damaged.stderr
    good = served.config.join_code()
    wrong = JoinCode(good.host, good.port, good.class_id, "not-the-password")
    refused = runner.invoke(app, ["join", wrong.encode(), "--name", "Ada"])
    assert refused.exit_code == 2 and "refused" in refused.stderr
    nowhere = JoinCode("127.0.0.1", free_loopback_port(), good.class_id, good.password)
    unreachable = runner.invoke(app, ["join", nowhere.encode(), "--name", "Ada"])
    assert unreachable.exit_code == 2 and "unreachable" in unreachable.stderr
    assert "Traceback" not in bad.output + refused.output + unreachable.output

    joined = runner.invoke(app, ["join", good.encode(), "--name", "Ada"])
    assert joined.exit_code == 0, joined.output
    # The class server goes away; a check still runs and fails as before, with one line.
    pid = _server_pid(served)
    os.kill(pid, signal.SIGKILL)
    checked = runner.invoke(app, ["check", "module3", "ttl-persist", "--backend", "embedded"])
    assert checked.exit_code == 1, checked.output
    assert checked.stderr.count("Class publishing paused") == 1
    assert (hermetic / OUTBOX_FILE).is_file()
    left = runner.invoke(app, ["leave"])
    # The leave waits in the outbox (with the result before it) for the server to answer.
    assert left.exit_code == 0 and "waits in the outbox" in left.stdout
    assert (hermetic / OUTBOX_FILE).stat().st_mode & 0o777 == 0o600
    assert '"kind": "leave"' in (hermetic / OUTBOX_FILE).read_text()


def test_events_carry_no_code_paths_or_passwords(served: ServedClass, hermetic: Path) -> None:
    code = served.config.join_code()
    assert runner.invoke(app, ["join", code.encode(), "--name", "Ada"]).exit_code == 0
    runner.invoke(app, ["check", "module3", "ttl-persist", "--backend", "embedded"])
    settle(served, [ClassPublisher(hermetic)])
    trainer = valkey.Valkey.from_url(served.server.url, decode_responses=True)
    entries = trainer.xrange(events_key(served.config.class_id))
    trainer.close()
    text = json.dumps(entries)
    assert len(entries) == 2
    assert str(hermetic) not in text and "/" not in text.replace("\\/", "")
    assert code.password not in text and served.config.trainer_password not in text
    assert "def " not in text and "import" not in text
    fields = entries[-1][1]
    assert set(fields) == {
        "v", "id", "learner", "learner_id", "kind", "module", "step", "slug", "passed",
        "checks", "attempt", "seconds", "hints", "backend", "server_version",
    }  # fmt: skip


def test_board_json_export_and_the_board_at_80_columns(served: ServedClass, tmp_path: Path) -> None:
    code = served.config.join_code()
    publishers = []
    for index in range(30):
        publisher = ClassPublisher(tmp_path / f"l{index}")
        publisher.join(code, f"A rather long learner name {index}")
        publisher.publish([payload(number, number % 3 != 0, 2) for number in range(1, 9)])
        publishers.append(publisher)
    settle(served, publishers)
    folder = ["--class-dir", str(served.folder)]
    snapshot = runner.invoke(app, ["class", "board", "--json", *folder])
    assert snapshot.exit_code == 0, snapshot.output
    data = json.loads(snapshot.stdout)
    assert data["events"] == 30 * 9 and len(data["learners"]) == 30
    exported = runner.invoke(app, ["class", "export", *folder])
    assert exported.exit_code == 0
    lines = exported.stdout.strip().splitlines()
    assert lines[0] == "learner,learner_id,step,slug,status,attempts,seconds,hints"
    assert len(lines) == 1 + 30 * 8
    board = board_for(served, load_module("module3")).snapshot()
    text = render_text(board_view(board, rows=30), 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("✓") + text.count("✗") - 1 == 30 * 8  # one ✗ is in the legend


def test_board_without_a_class_says_how_to_start_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["class", "board", "--json", "--class-dir", str(tmp_path)])
    assert result.exit_code == 2 and "workshop class serve" in result.stderr


def test_lan_listen_needs_an_address_and_warns_about_plaintext(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="--advertise"):
        ClassConfig.new("0.0.0.0:6390", None, "module3", 0.0)
    result = runner.invoke(
        app, ["class", "serve", "--listen", "nonsense", "--class-dir", str(tmp_path / "c")]
    )
    assert result.exit_code == 2 and "HOST:PORT" in result.stderr


def test_one_class_server_per_class_folder(served: ServedClass) -> None:
    before = (served.folder / CLASS_FILE).read_text()
    other = f"127.0.0.1:{free_loopback_port()}"
    with (
        pytest.raises(Exception, match="already being served"),
        serve_class(served.folder, listen=other, advertise=None, module="module3"),
    ):
        pass
    assert (served.folder / CLASS_FILE).read_text() == before  # class.json untouched
    assert served.folder.stat().st_mode & 0o777 == 0o700
    assert (served.folder / "data").stat().st_mode & 0o777 == 0o700


def test_same_names_left_learners_and_spreadsheet_safe_export(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    first, second, tricky = (ClassPublisher(tmp_path / name) for name in ("a", "b", "c"))
    first.join(code, "Ada L.")
    second.join(code, "Ada L.")
    tricky.join(code, '=HYPERLINK("http://x","y")')
    for publisher in (first, second):
        publisher.publish([payload(2, False, 1)])
    settle(served, [first, second])
    left = second.leave()
    assert left is not None and left[1] is False  # sent, not queued
    settle(served, [first, second, tricky])
    board = ClassBoard(served.config, load_module("module3"), stuck_minutes=0.0)
    client = valkey.Valkey.from_url(served.server.url)
    board.refresh(client)
    client.close()
    snapshot = board.snapshot()
    shown = sorted(row.shown_name for row in snapshot.learners if row.name == "Ada L.")
    # Two rows of one name, told apart by a word a trainer can say aloud.
    assert len(set(shown)) == 2 and all(
        re.fullmatch(r"Ada L\. \([a-z]+( [0-9a-f]{4})?\)", n) for n in shown
    )
    stuck = [row for row in snapshot.stuck]
    assert len(stuck) == 1 and not stuck[0].left  # the one who left is not stuck
    text = render_text(board_view(snapshot), 80)
    assert " left " in text
    csv_text = snapshot.to_csv()
    assert "'=HYPERLINK" in csv_text and "\n=HYPERLINK" not in csv_text
    assert all(not line.startswith(("=", "+", "-", "@")) for line in csv_text.splitlines())
    assert ",joined," in csv_text  # joined, never checked: still on the list


def test_the_board_says_when_the_class_server_stopped_answering() -> None:
    module = load_module("module3")
    config = ClassConfig.new("127.0.0.1:6390", None, "module3", time.time())
    snapshot = ClassBoard(config, module).snapshot()
    text = render_text(board_view(snapshot, silent_since="14:31:05"), 80)
    assert "has not answered since 14:31:05" in text


def test_a_class_on_an_existing_server_through_url(tmp_path: Path) -> None:
    from valkey_workshop.server.embedded import EmbeddedBackend  # noqa: PLC0415

    with EmbeddedBackend() as existing, serve_class(
        tmp_path / "class", listen=None, advertise=None, module="module3",
        backend="url", url=existing.url,
    ) as served:  # fmt: skip
        code = served.config.join_code()
        assert code.port == int(existing.url.rsplit(":", 1)[1].split("/")[0])
        learner = ClassPublisher(tmp_path / "w")
        learner.join(code, "Ada")
        assert served.relay.wait_passes(2)
        trainer = valkey.Valkey.from_url(served.server.url)
        assert trainer.xlen(events_key(served.config.class_id)) == 1
        trainer.close()
        # The owner's default user is left as it was: still reachable with its password.
        owner = valkey.Valkey.from_url(existing.url)
        assert owner.ping()
        owner.close()
