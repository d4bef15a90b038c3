"""Issue 23's attacks, each tried on a real class server with what a learner holds (the join
code, and a user of its own after joining), and the board fed hostile stream entries."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey
from rich.cells import cell_len
from typer.testing import CliRunner

from valkey_workshop.classroom.board import ClassBoard, check_names
from valkey_workshop.classroom.config import (
    ClassConfig,
    events_key,
    inbox_key,
    joins_key,
    state_key,
)
from valkey_workshop.classroom.membership import (
    OUTBOX_FILE,
    AnnouncementWatcher,
    ClassPublisher,
    Membership,
    step_payload,
)
from valkey_workshop.classroom.relay import BURST, MAX_BATCH_EVENTS
from valkey_workshop.classroom.serve import MAXMEMORY, ServedClass, end_class, serve_class
from valkey_workshop.classroom.trainer import class_progress
from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module
from valkey_workshop.render.board import board_view
from valkey_workshop.render.console import render_text
from valkey_workshop.server.embedded import EmbeddedBackend, free_loopback_port

runner = CliRunner()
HOSTILE_NAME = "\x1b]0;owned\x07Eve\x1b[2J\x1b]52;c;ZXZpbA==\x07\nrow\u202e"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedClass]:
    listen = f"127.0.0.1:{free_loopback_port()}"
    with serve_class(tmp_path / "class", listen=listen, advertise=None, module="module3") as s:
        yield s


def as_learner(membership: Membership) -> valkey.Valkey:
    return valkey.Valkey(
        host=membership.host, port=membership.port, username=membership.user,
        password=membership.secret, decode_responses=True,
    )  # fmt: skip


def trainer(served: ServedClass) -> valkey.Valkey:
    return valkey.Valkey.from_url(served.server.url, decode_responses=True)


MODULE3_CHECKS = check_names(load_module("module3"))


def first_check(number: int) -> str:
    """A real check id of step ``number`` (the class server refuses any other)."""
    return sorted(check for step, check in MODULE3_CHECKS if step == number)[0]


def second_check(number: int) -> str:
    return sorted(check for step, check in MODULE3_CHECKS if step == number)[1]


def payload(number: int, passed: bool) -> dict[str, str]:
    return step_payload(
        kind="check", module="module3", number=number, slug=f"s{number}", passed=passed,
        checks=[(first_check(number), True), (second_check(number), passed)], attempt=1, seconds=5.0, hints=0,
        backend="embedded", server_version="9.1.2",
    )  # fmt: skip


def snapshot_of(served: ServedClass, **options: float) -> ClassBoard:
    board = ClassBoard(served.config, load_module("module3"), **options)  # type: ignore[arg-type]
    client = valkey.Valkey.from_url(served.server.url)
    board.refresh(client)
    client.close()
    return board


def push(served: ServedClass, membership: Membership, batch: object) -> None:
    """Write one raw batch to the learner's inbox, as a hostile client would, and wait for
    the relay to take it."""
    client = as_learner(membership)
    client.set(inbox_key(membership.class_id, membership.learner_id), json.dumps(batch))
    client.close()
    assert served.relay.wait_passes(2)


def deliver(served: ServedClass, publisher: ClassPublisher) -> None:
    """Send what waits in the outbox (a batch the relay has not taken yet makes it wait)."""
    deadline = time.monotonic() + 60
    while publisher.pending():
        publisher.publish([], background=False)
        assert served.relay.wait_passes(1)
        assert time.monotonic() < deadline
    assert served.relay.wait_passes(2)


def test_stream_options_ids_and_trims_are_out_of_a_learners_reach(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    ada = ClassPublisher(tmp_path / "ada")
    member = ada.join(code, "Ada")
    ada.publish([payload(1, True)], background=False)
    assert served.relay.wait_passes(2)
    key = events_key(code.class_id)
    attacks = [
        ("XADD", key, "MAXLEN", "=", "0", "*", "v", "1"),
        ("XADD", key, "MINID", "=", "99999999999999", "*", "v", "1"),
        ("XADD", key, "18446744073709551615-18446744073709551615", "v", "1"),
        ("XADD", key, f"{int(time.time() * 1000) + 365 * 86_400_000}-0", "v", "1"),
        ("XTRIM", key, "MAXLEN", "0"),
        ("DEL", key),
        ("XSETID", key, "18446744073709551615-18446744073709551615"),
    ]
    for client in (as_learner(member), valkey.Valkey(
        host=code.host, port=code.port, username=code.join_user, password=code.password
    )):  # fmt: skip
        for attack in attacks:
            with pytest.raises(valkey.exceptions.NoPermissionError):
                client.execute_command(*attack)
        client.close()
    # The ids are the server's: the next result lands after the others, now.
    ada.publish([payload(2, False)], background=False)
    assert served.relay.wait_passes(2)
    entries = trainer(served).xrange(key)
    assert len(entries) == 3
    last_ms = int(entries[-1][0].split("-")[0])
    assert last_ms <= time.time() * 1000 + 1
    board = snapshot_of(served).snapshot()
    assert [row.name for row in board.learners] == ["Ada"]


def test_a_learner_cannot_use_or_take_over_another_learners_identity(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    ada = ClassPublisher(tmp_path / "ada").join(code, "Ada")
    eve_publisher = ClassPublisher(tmp_path / "eve")
    eve = eve_publisher.join(code, "Eve")
    # Eve's secret does not open Ada's user.
    with pytest.raises(valkey.AuthenticationError):
        valkey.Valkey(host=code.host, port=code.port, username=ada.user, password=eve.secret).ping()
    # A join request with Ada's id (Eve does not know Ada's secret) changes nothing.
    joiner = valkey.Valkey(
        host=code.host, port=code.port, username=code.join_user, password=code.password
    )
    joiner.rpush(
        joins_key(code.class_id),
        json.dumps({"id": ada.learner_id, "name": "Ada", "hash": "0" * 64}),
    )
    joiner.close()
    assert served.relay.wait_passes(2)
    assert as_learner(ada).ping()  # Ada's user still opens with Ada's secret
    # Eve's events name Ada in every field she controls: the relay stamps Eve.
    forged = {**payload(2, True), "id": "ab" * 16, "learner": "Ada", "learner_id": ada.learner_id}
    push(served, eve, [forged])
    board = snapshot_of(served).snapshot()
    by_name = {row.name: row for row in board.learners}
    assert by_name["Eve"].steps[2].status == "passed"
    assert 2 not in by_name["Ada"].steps


def test_malformed_events_are_refused_and_counted_never_stored(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    eve = ClassPublisher(tmp_path / "eve").join(code, "Eve")
    bad = [
        {**payload(2, True), "step": "999999"},
        {**payload(2, True), "step": "-3"},
        {**payload(2, True), "kind": "join"},
        {**payload(2, True), "kind": "clear", "target": eve.learner_id},
        {**payload(2, True), "checks": "[" * 200_000},
        {**payload(2, True), "attempt": "1e9"},
        {**payload(2, True), "module": "other"},
        {**payload(2, True), "slug": "x" * 10_000},
        "not an event",
    ]
    for index, event in enumerate(bad):
        if isinstance(event, dict):
            event["id"] = f"{index:032x}"
        push(served, eve, [event])
    push(served, eve, "[" * 60_000)  # not a batch
    client = as_learner(eve)
    # One argument over the server's 1 MB cap: refused, the connection closed.
    with pytest.raises((valkey.ResponseError, valkey.ConnectionError)):
        client.set(inbox_key(eve.class_id, eve.learner_id), "x" * 2_000_000)
    client.close()
    client = as_learner(eve)
    client.set(inbox_key(eve.class_id, eve.learner_id), "x" * 500_000)  # over a batch's size
    client.close()
    assert served.relay.wait_passes(2)
    stream = trainer(served).xrange(events_key(code.class_id))
    assert [fields["kind"] for _, fields in stream] == ["join"]
    board = snapshot_of(served).snapshot()
    assert board.rejected == len(bad) + 2
    admin = valkey.Valkey.from_url(served.config.own_admin_url(), decode_responses=True)
    assert admin.config_get("maxmemory")["maxmemory"] == str(512 * 1024 * 1024)
    assert admin.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    admin.close()
    assert MAXMEMORY == "512mb"


def test_a_learners_rate_is_limited_by_the_class_server(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    eve = ClassPublisher(tmp_path / "eve").join(code, "Eve")
    client = as_learner(eve)
    key = inbox_key(eve.class_id, eve.learner_id)
    started = time.monotonic()
    sent = 0
    for round_number in range(40):
        batch = [
            {**payload(2, False), "id": f"{round_number:016x}{index:016x}"}
            for index in range(MAX_BATCH_EVENTS)
        ]
        if client.set(key, json.dumps(batch), nx=True):
            sent += len(batch)
        served.relay.wait_passes(1)
    client.close()
    assert served.relay.wait_passes(2)
    elapsed = time.monotonic() - started
    stream = trainer(served).xlen(events_key(code.class_id))
    # The join, then at most the burst and one event a second (a batch waits for credit).
    assert stream - 1 <= BURST + elapsed + MAX_BATCH_EVENTS
    assert stream - 1 < sent or sent <= BURST


def test_the_board_trusts_nothing_it_reads(served: ServedClass, tmp_path: Path) -> None:
    """Entries written straight to the stream (an old class, or a trainer's mistake):
    nothing crashes, no control character is shown, no CSV cell is a formula."""
    key = events_key(served.config.class_id)
    client = trainer(served)
    good = {"v": "2", "kind": "join", "learner_id": "a1" * 8}
    client.xadd(key, {**good, "id": "01" * 16, "learner": HOSTILE_NAME})
    client.xadd(key, {**good, "id": "02" * 16, "learner_id": "b2" * 8, "learner": "=1+1"})
    client.xadd(key, {**good, "id": "03" * 16, "learner_id": "c3" * 8, "learner": "🦊 李小龍"})
    hostile = [
        {**payload(2, False), "checks": "[" * 200_000},
        {**payload(2, False), "step": "999999"},
        {**payload(2, False), "step": "-3"},
        {**payload(2, False), "learner_id": "=HYPERLINK(1)"},
    ]
    for index, fields in enumerate(hostile):
        client.xadd(key, {**fields, "id": f"{index + 10:032x}", "learner_id": "a1" * 8})
    client.xadd(key, {**hostile[3], "id": "ff" * 16})
    future = int(time.time() * 1000) + 365 * 86_400_000
    client.xadd(
        key, {**payload(3, False), "id": "ee" * 16, "learner_id": "a1" * 8}, id=f"{future}-0"
    )
    client.close()
    board = snapshot_of(served, stuck_minutes=0.0).snapshot()
    assert board.rejected == 4  # 200,000 brackets, two unknown steps, a formula for an id
    names = {row.name for row in board.learners}
    assert names == {"]0;ownedEve[2J]52;c;ZXZpbA== row", "=1+1", "🦊 李小龍"}
    text = render_text(board_view(board), 80)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    rendered = json.dumps(board.to_json())
    assert "\\u001b" not in rendered and "\\n" not in rendered
    csv_text = board.to_csv()
    assert "\x1b" not in csv_text
    for line in csv_text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), line
    # The entry from the future counts as now: Eve is on step 03, failing, and not hidden.
    eve = next(row for row in board.learners if row.learner_id == "a1" * 8)
    assert eve.current_step == 3 and eve.stuck_minutes is not None
    folder = ["--class-dir", str(served.folder)]
    for command in (["class", "board", "--json"], ["class", "export"]):
        result = runner.invoke(app, [*command, *folder])
        assert result.exit_code == 0 and "Traceback" not in result.output
    progress = class_progress(served.folder)  # what `demo --class-dir` calls
    assert progress is not None and progress(2) == "step 02: 0/3 passed"


def test_wide_and_emoji_names_keep_their_columns_and_80x24_keeps_the_summaries(
    served: ServedClass,
) -> None:
    key = events_key(served.config.class_id)
    client = trainer(served)
    names = ["🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊", "李小龍李小龍李小龍李小龍", "Ada", "e\u0301tienne"]
    names += [f"learner {i}" for i in range(40)]
    for index, name in enumerate(names):
        learner_id = f"{index:016x}"
        client.xadd(key, {"v": "2", "id": f"{index:032x}", "kind": "join",
                          "learner_id": learner_id, "learner": name})  # fmt: skip
        fields = {**payload(2, False), "id": f"{index + 100:032x}", "learner_id": learner_id}
        client.xadd(key, fields)
        if index < 3:
            help_event = {"v": "2", "id": f"{index + 200:032x}", "kind": "help",
                          "learner_id": learner_id}  # fmt: skip
            client.xadd(key, help_event)
    client.close()
    board = snapshot_of(served, stuck_minutes=0.0).snapshot()
    # An outage warning and long lines take no learner's place from the summaries.
    text = render_text(board_view(board, height=24, silent_since="14:31:05"), 80)
    lines = text.splitlines()
    assert len(lines) <= 24 and "has not answered since 14:31:05" in text
    assert any(line.startswith("Hands up:") for line in lines)
    assert any(line.startswith("Stuck:") for line in lines)
    assert all(cell_len(line) <= 80 for line in lines)
    rows = [line for line in lines if "✗1" in line and not line.startswith(("Stuck", "Hands"))]
    assert len({cell_len(line) for line in rows}) == 1  # every row's cells line up


def test_help_me_say_clear_and_one_learners_view(served: ServedClass, hermetic: Path) -> None:
    code = served.config.join_code().encode()
    folder = ["--class-dir", str(served.folder)]
    assert runner.invoke(app, ["join", code, "--name", "Ada"]).exit_code == 0
    publisher = ClassPublisher(hermetic)
    publisher.publish([payload(2, False)], background=False)
    raised = runner.invoke(app, ["help-me"])
    assert raised.exit_code == 0 and "Hand raised" in raised.stdout
    deliver(served, publisher)
    board = runner.invoke(app, ["class", "board", "--json", *folder])
    assert [hand["name"] for hand in json.loads(board.stdout)["hands"]] == ["Ada"]
    one = runner.invoke(app, ["class", "board", "--learner", "ada", *folder])
    assert (
        one.exit_code == 0
        and "02 cache-aside" in one.stdout
        and MODULE3_CHECKS[(2, second_check(2))] in one.stdout
    )
    assert "hand up" in one.stdout
    cleared = runner.invoke(app, ["class", "clear", "Ada", *folder])
    assert cleared.exit_code == 0, cleared.output
    board = runner.invoke(app, ["class", "board", "--json", *folder])
    assert json.loads(board.stdout)["hands"] == []
    assert runner.invoke(app, ["class", "clear", "Ada", *folder]).exit_code == 2
    said = runner.invoke(app, ["class", "say", "Break \x1b[2Juntil 11:00", *folder])
    assert said.exit_code == 0
    outcome = publisher.publish([payload(2, True)], background=False)
    assert outcome is not None and outcome.announcement == "Break [2Juntil 11:00"
    again = publisher.publish([payload(3, True)], background=False)
    assert again is not None and again.announcement is None  # said once per workdir


def test_time_on_task_idle_never_started_from_the_servers_clock() -> None:
    module = load_module("module3")
    config = ClassConfig.new("127.0.0.1:6390", None, "module3", time.time())
    board = ClassBoard(config, module, idle_minutes=5.0)
    start = int(time.time() * 1000) - 30 * 60_000
    ada, bo = "a" * 16, "b" * 16

    def entry(at_minutes: float, fields: dict[str, str], number: int) -> tuple[str, dict[str, str]]:
        return f"{start + int(at_minutes * 60_000)}-0", {"id": f"{number:032x}", **fields}

    checked = {**payload(1, False), "seconds": "0", "learner_id": ada}
    board.fold([
        entry(0, {"kind": "join", "learner_id": ada, "learner": "Ada"}, 1),
        entry(0, {"kind": "join", "learner_id": bo, "learner": "Bo"}, 2),
        entry(4, checked, 3),
        entry(10, {**checked, "passed": "1"}, 4),
    ])  # fmt: skip
    rows = {row.name: row for row in board.snapshot().learners}
    assert rows["Ada"].steps[1].seconds == 600  # joined at 0, passed at 10 (check sent 0 s)
    assert rows["Ada"].current_step == 2 and rows["Ada"].idle  # 20 minutes since
    assert rows["Ada"].on_step_minutes is not None and rows["Ada"].on_step_minutes >= 19
    assert rows["Bo"].never_started and rows["Bo"].idle


class NotValkey:
    """A TCP server on loopback that answers like a web server."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


def test_an_address_that_is_not_valkey_is_one_line_in_join_and_never_breaks_a_check(
    served: ServedClass, hermetic: Path
) -> None:
    impostor = NotValkey()
    try:
        good = served.config.join_code()
        wrong = type(good)("127.0.0.1", impostor.port, good.class_id, good.password)
        joined = runner.invoke(app, ["join", wrong.encode(), "--name", "Ada"])
        assert joined.exit_code == 2, joined.output
        assert "does not answer like a Valkey server" in joined.stderr
        assert "Traceback" not in joined.output and len(joined.stderr.strip().splitlines()) == 1
        # A learner in a class whose address now answers like a web server.
        assert runner.invoke(app, ["join", good.encode(), "--name", "Ada"]).exit_code == 0
        path = hermetic / ".workshop-class.json"
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "port": impostor.port}))
        checked = runner.invoke(app, ["check", "module3", "ttl-persist", "--backend", "embedded"])
        assert checked.exit_code == 1, checked.output
        assert "Traceback" not in checked.output and "Class publishing paused" in checked.stderr
        assert (hermetic / OUTBOX_FILE).stat().st_mode & 0o777 == 0o600
        assert (path.stat().st_mode & 0o777) == 0o600
    finally:
        impostor.close()


def test_the_outbox_goes_out_in_the_background_and_a_queued_leave_with_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "class"
    listen = f"127.0.0.1:{free_loopback_port()}"
    workdir = tmp_path / "w"
    publisher = ClassPublisher(workdir)
    with serve_class(folder, listen=listen, advertise=None, module="module3") as first:
        publisher.join(first.config.join_code(), "Ada")
        first.relay.wait_passes(2)
    # The class server is away: the result and the leave wait; a sender process is started.
    outcome = publisher.publish([payload(2, True)])
    assert outcome is not None and outcome.queued == 1 and outcome.problem
    left = publisher.leave()
    assert left is not None and left[1] is True
    with serve_class(folder, listen=None, advertise=None, module="module3") as second:
        deadline = time.monotonic() + 90
        while (workdir / OUTBOX_FILE).exists() or publisher.membership() is not None:
            assert time.monotonic() < deadline, "the background sender never sent the outbox"
            second.relay.wait_passes(1)
        assert second.relay.wait_passes(2)
        board = snapshot_of(second).snapshot()
    (ada,) = board.learners
    assert ada.left and ada.steps[2].status == "passed"


def test_url_classes_have_users_of_their_own_and_end_removes_them(tmp_path: Path) -> None:
    with EmbeddedBackend() as existing:
        owner = valkey.Valkey.from_url(existing.url, decode_responses=True)
        owner.execute_command("ACL", "SETUSER", "trainer", "on", ">owners", "~*", "+@all")
        owner.execute_command("ACL", "SETUSER", "learner", "on", ">owners2", "~*", "+get")
        before = {u: owner.execute_command("ACL", "GETUSER", u) for u in ("trainer", "learner")}
        folders = [tmp_path / "one", tmp_path / "two"]
        with serve_class(folders[0], listen=None, advertise=None, module="module3",
                         backend="url", url=existing.url) as one, \
             serve_class(folders[1], listen=None, advertise=None, module="module3",
                         backend="url", url=existing.url) as two:  # fmt: skip
            for index, served in enumerate((one, two)):
                ClassPublisher(tmp_path / f"w{index}").join(served.config.join_code(), "Ada")
                assert served.relay.wait_passes(2)
                assert trainer(served).xlen(events_key(served.config.class_id)) == 1
            saved = (folders[0] / "class.json").read_text()
            assert existing.url.split("@")[0].rsplit(":", 1)[1] not in saved  # no password
        after = {u: owner.execute_command("ACL", "GETUSER", u) for u in ("trainer", "learner")}
        assert after == before  # the owner's users are untouched
        users = owner.execute_command("ACL", "USERS")
        assert sum(name.startswith(f"wsc-{one.config.class_id}-") for name in users) == 3
        ended = end_class(folders[0], existing.url)
        assert ended.users == 3  # trainer, join, and Ada's own
        users = owner.execute_command("ACL", "USERS")
        assert not any(name.startswith(f"wsc-{one.config.class_id}-") for name in users)
        assert any(name.startswith(f"wsc-{two.config.class_id}-") for name in users)
        assert owner.ping()
        owner.close()


def test_an_admin_password_is_never_taken_from_the_command_line(tmp_path: Path) -> None:
    folder = ["--class-dir", str(tmp_path / "c")]
    url = "valkey://admin:s3cret@127.0.0.1:1/0"
    result = runner.invoke(app, ["class", "serve", "--url", url, *folder])
    assert result.exit_code == 2 and "WORKSHOP_CLASS_ADMIN_URL" in result.stderr
    assert not (tmp_path / "c").exists()


def test_a_board_starts_from_the_relays_state_and_ignores_a_damaged_one(
    served: ServedClass, tmp_path: Path
) -> None:
    code = served.config.join_code()
    publishers = [ClassPublisher(tmp_path / f"w{i}") for i in range(3)]
    for index, publisher in enumerate(publishers):
        publisher.join(code, f"learner {index}")
        publisher.publish([payload(2, index != 1)], background=False)
    for publisher in publishers:
        deliver(served, publisher)
    full = ClassBoard(served.config, load_module("module3"))
    client = valkey.Valkey.from_url(served.server.url)
    full.refresh(client, use_state=False)
    deadline = time.monotonic() + 60
    while (
        client.get(state_key(code.class_id)) is None
        or json.loads(client.get(state_key(code.class_id)) or b"{}").get("events") != full.events
    ):
        assert time.monotonic() < deadline and served.relay.wait_passes(1)
    moment = time.time()
    started = snapshot_of(served).snapshot(moment).to_json()
    assert started == full.snapshot(moment).to_json()
    client.set(state_key(code.class_id), "[" * 200_000)  # a damaged state: read the stream
    assert snapshot_of(served).snapshot(moment).to_json() == full.snapshot(moment).to_json()
    client.close()


def test_class_end_removes_the_class_users_from_its_own_server(
    served: ServedClass, tmp_path: Path
) -> None:
    member = ClassPublisher(tmp_path / "ada").join(served.config.join_code(), "Ada")
    ended = runner.invoke(app, ["class", "end", "--class-dir", str(served.folder)])
    assert ended.exit_code == 0, ended.output
    assert "3 users" in ended.stdout  # trainer, join, Ada's own (and the class's admin)
    with pytest.raises(valkey.AuthenticationError):
        as_learner(member).ping()


def test_what_the_trainer_says_reaches_a_running_session_without_a_check(
    served: ServedClass, tmp_path: Path
) -> None:
    workdir = tmp_path / "ada"
    ClassPublisher(workdir).join(served.config.join_code(), "Ada")
    with AnnouncementWatcher(workdir, interval=0.05) as watcher:
        said = runner.invoke(
            app, ["class", "say", "Step 03 now", "--class-dir", str(served.folder)]
        )
        assert said.exit_code == 0
        deadline = time.monotonic() + 30
        heard: list[str] = []
        while not heard:
            assert time.monotonic() < deadline, "the session never heard the trainer"
            time.sleep(0.05)
            heard = watcher.said()
    assert heard == ["Step 03 now"]
