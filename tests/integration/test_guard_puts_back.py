"""The guard puts back what learner code and the workshop's own runs changed, and a --url server
loses no key the workshop did not write (issue 19, server side; issue 22, key declarations).

Real servers throughout: an embedded server reached through --url plays the user's server (it
is then not ours), a private one plays the workshop's own.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import valkey
from typer.testing import CliRunner

from tests.integration.test_guard import (
    db_url,
    empty_user_server,
    learner_file,
    private_server,
)
from valkey_workshop.cli.app import app
from valkey_workshop.commands.check import check_steps
from valkey_workshop.content import Module, load_module
from valkey_workshop.errors import ContentError
from valkey_workshop.results.check import CheckOutcome
from valkey_workshop.server import guard as guard_module
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.embedded import EmbeddedBackend
from valkey_workshop.server.guard import USED_MARKER, ServerGuard, forget_guard, guard_for
from valkey_workshop.server.url import UrlBackend
from valkey_workshop.session.workdir import Workdir

__all__ = ["empty_user_server", "private_server"]  # fixtures used here by name

runner = CliRunner()


def every_key(url: str) -> dict[int, set[bytes]]:
    """Every key of every database of ``url``'s server."""
    client = valkey.Valkey.from_url(url)
    try:
        keyspace = client.info("keyspace")
    finally:
        client.close()
    found = {}
    for name in keyspace:
        db = int(name[2:])
        one = valkey.Valkey.from_url(db_url(url, db))
        found[db] = set(one.scan_iter(count=1000))
        one.close()
    return found


def user_of(server: ServerInfo, name: str, *rules: str) -> str:
    """A --url for a new ACL user ``name`` with ``rules`` on ``server``."""
    admin = valkey.Valkey.from_url(server.url)
    admin.execute_command("ACL", "SETUSER", name, "reset", "on", ">pw", *rules)
    admin.close()
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    return f"valkey://{name}:pw@127.0.0.1:{port}/0"


def check(module3: Module, hermetic: Path, server: ServerInfo, slug: str) -> CheckOutcome:
    return check_steps(module3, (module3.step(slug),), Workdir(hermetic), server)


# -- replication, a write pause, function libraries -------------------------------------------
MAKES_A_REPLICA = """\
def get_product_details(client, db, product_id):
    client.execute_command("REPLICAOF", "127.0.0.1", "1")

def update_product(client, db, product_id, changes):
    return None
"""


def test_replicaof_is_undone_on_our_server_and_on_a_url_server(
    private_server: ServerInfo, empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", MAKES_A_REPLICA)
    for server in (private_server, empty_user_server):
        outcome = check(module3, hermetic, server, "cache-aside")
        assert outcome.server_stopped is None, outcome.notices
        assert any("REPLICAOF NO ONE" in notice for notice in outcome.notices), outcome.notices
        admin = valkey.Valkey.from_url(server.url, decode_responses=True)
        assert admin.info("replication")["role"] == "master"
        assert admin.set("still:writable", 1)  # not a read-only replica any more
        admin.delete("still:writable")
        admin.close()


def test_a_replica_the_guard_may_not_undo_stops_the_check_and_says_what_to_run(
    empty_user_server: ServerInfo, module3: Module
) -> None:
    # The guard's user may not run REPLICAOF; someone with more rights made the server a replica
    # during the run: the guard cannot undo it, so it says what to run.
    url = user_of(empty_user_server, "limited", "~*", "&*", "+@all", "-replicaof", "-slaveof")
    limited = UrlBackend(url).start()
    admin = valkey.Valkey.from_url(empty_user_server.url, decode_responses=True)
    try:
        run = ServerGuard(limited).run(
            module3.step("cache-aside"),
            lambda: admin.execute_command("REPLICAOF", "127.0.0.1", "1"),
        )
        assert run.aftermath.stopped
        assert "REPLICAOF NO ONE" in run.aftermath.why_stopped
        assert "valkey-cli -u valkey://limited:***@127.0.0.1:" in run.aftermath.why_stopped
    finally:
        admin.execute_command("REPLICAOF", "NO", "ONE")
        admin.close()


PAUSES_WRITES = """\
def get_product_details(client, db, product_id):
    client.execute_command("CLIENT", "PAUSE", "600000", "WRITE")

def update_product(client, db, product_id, changes):
    return None
"""


def test_a_write_pause_is_ended(
    private_server: ServerInfo, empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", PAUSES_WRITES)
    for server in (private_server, empty_user_server):
        outcome = check(module3, hermetic, server, "cache-aside")
        assert outcome.server_stopped is None, outcome.notices
        assert any("CLIENT UNPAUSE" in notice for notice in outcome.notices), outcome.notices
        admin = valkey.Valkey.from_url(server.url, decode_responses=True, socket_timeout=5)
        assert admin.info("clients")["paused_actions"] == "none"
        assert admin.set("workshop:after-the-pause", 1, px=1000)  # a write, answered at once
        admin.close()


USER_LIBRARY = "#!lua name=userlib\nserver.register_function('user_fn', function() return 7 end)"
FLUSHES_AND_LOADS_FUNCTIONS = """\
def get_product_details(client, db, product_id):
    client.function_flush()
    client.function_load(
        "#!lua name=learnerlib\\nserver.register_function('learner_fn', function() return 1 end)"
    )

def update_product(client, db, product_id, changes):
    return None
"""


def test_function_libraries_are_put_back(
    empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    admin = valkey.Valkey.from_url(empty_user_server.url, decode_responses=True)
    admin.function_load(USER_LIBRARY)
    learner_file(hermetic, "02_cache_aside.py", FLUSHES_AND_LOADS_FUNCTIONS)
    outcome = check(module3, hermetic, empty_user_server, "cache-aside")
    notices = " ".join(outcome.notices)
    assert "function libraries (loaded learnerlib; removed userlib)" in notices, notices
    names = [dict(zip(e[::2], e[1::2], strict=True))["library_name"] for e in admin.function_list()]
    assert names == ["userlib"]
    assert admin.fcall("user_fn", 0) == 7
    admin.function_flush()
    # With no library before the run, a learner's FUNCTION LOAD does not stay either.
    check(module3, hermetic, empty_user_server, "cache-aside")
    assert admin.function_list() == []
    admin.close()


# -- keys ----------------------------------------------------------------------------------
LEAVES_KEYS_EVERYWHERE = """\
def get_product_details(client, db, product_id):
    client.set("workshop:left:behind", 1)
    client.set("product:P9:details", "{}")
    client.execute_command("SELECT", 3)
    client.hset("workshop:lazyfree:big:trash", mapping={"f": "v"})
    client.set("stray", 1)
    client.execute_command("SELECT", 0)

def update_product(client, db, product_id, changes):
    return None
"""


def test_keys_a_run_leaves_are_removed_in_every_database(
    private_server: ServerInfo, empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", LEAVES_KEYS_EVERYWHERE)
    for server, left in ((private_server, {}), (empty_user_server, {0: {USED_MARKER.encode()}})):
        check(module3, hermetic, server, "cache-aside")
        assert every_key(server.url) == left


def test_a_url_server_loses_no_key_named_like_the_workshops(
    empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    # The workshop has run here before (the marker), and an application then wrote keys with
    # the module's declared names and under workshop:. A known-wrong answer empties the
    # database; every one of those keys is back afterwards, with its TTL.
    db0 = valkey.Valkey.from_url(db_url(empty_user_server.url, 0))
    db0.set(USED_MARKER, "2026-01-01T00:00:00Z")
    db0.set("product:123:details", '{"id": "123", "price": 9.5}', ex=3600)
    db0.xadd("product:write-queue", {"order": "A-17"})
    db0.hset("workshop:users-own", mapping={"a": "1"})
    before = {key: db0.dump(key) for key in db0.scan_iter()}
    step = module3.step("cache-aside")
    flush = (step.folder / "wrong" / "flush_database.py").read_text()
    learner_file(hermetic, "02_cache_aside.py", flush)
    outcome = check(module3, hermetic, empty_user_server, "cache-aside")
    assert outcome.report.steps[0].not_run is None  # it ran (these keys are named like ours)
    assert "put them back as they were" in " ".join(outcome.notices), outcome.notices
    assert {key: db0.dump(key) for key in db0.scan_iter()} == before
    assert 3000 < db0.ttl("product:123:details") <= 3600
    assert every_key(empty_user_server.url) == {0: set(before)}
    db0.close()


def test_the_foreign_key_scan_reads_every_key(
    empty_user_server: ServerInfo, module3: Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 150,000 keys of the workshop's, then one of the user's: the old scan stopped at 100,000.
    db0 = valkey.Valkey.from_url(db_url(empty_user_server.url, 0))
    pipe = db0.pipeline(transaction=False)
    for start in range(0, 150_000, 5000):
        pipe.mset({f"workshop:many:{i}": "1" for i in range(start, start + 5000)})
    pipe.execute()
    db0.set("zzz:user-key", "precious")
    guard = ServerGuard(empty_user_server)
    refusal = guard.refuse_if_foreign(module3.step("eviction"))
    assert refusal is not None and refusal.foreign_count == 1, refusal
    assert "'zzz:user-key'" in refusal.message
    # A server too big to read is refused, not half-read.
    monkeypatch.setattr(guard_module, "SCAN_LIMIT", 100_000)
    refusal = ServerGuard(empty_user_server).refuse_if_foreign(module3.step("cache-aside"), True)
    assert refusal is not None
    assert "it holds 150,001 keys, more than the 100,000" in refusal.message
    assert db0.get("zzz:user-key") == b"precious"
    guard.close()
    db0.close()


# -- a user with limited rights -----------------------------------------------------------
@pytest.mark.parametrize(
    ("rules", "slug", "says"),
    [
        (
            ("~*", "&*", "+@all", "-config"),
            "eviction",
            "does not let this user change them (CONFIG SET",
        ),
        (("~*", "&*", "+@read", "+@connection", "+info"), "cache-aside", "write keys named"),
        (("~app:*", "&*", "+@all"), "cache-aside", "write keys named workshop:*"),
    ],
    ids=["no-config", "read-only", "keys-app-only"],
)
def test_a_user_with_limited_rights_gets_cannot_run_here_and_exit_2(
    empty_user_server: ServerInfo,
    module3: Module,
    hermetic: Path,
    rules: tuple[str, ...],
    slug: str,
    says: str,
) -> None:
    url = user_of(empty_user_server, "limited", *rules)
    step = module3.step(slug)
    learner_file(hermetic, step.exercise_filename, step.solution.read_text())
    result = runner.invoke(app, ["check", "module3", slug, "--url", url])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"Step {step.label} cannot run here:" in text, text
    assert says in text, text
    assert "Traceback" not in result.output and "NoPermissionError" not in result.output
    proved = runner.invoke(app, ["verify", "module3", slug, "--url", url])
    assert proved.exit_code == 2, proved.output
    assert "cannot run here" in " ".join(proved.output.split())
    assert "solution passes" not in proved.output  # no reference solution was judged there


def test_verify_and_demo_refused_on_a_server_with_user_data_exit_2(
    empty_user_server: ServerInfo,
) -> None:
    valkey.Valkey.from_url(empty_user_server.url).set("user:1", "precious")
    verified = runner.invoke(
        app, ["verify", "module3", "cache-aside", "--url", empty_user_server.url]
    )
    assert verified.exit_code == 2, verified.output
    demo = ["demo", "module3", "eviction", "--no-pause", "--url", empty_user_server.url]
    refused = runner.invoke(app, demo)
    assert refused.exit_code == 2, refused.output
    assert "did not run" in refused.output


# -- verify on a --url server, twice --------------------------------------------------------
def test_verify_on_a_url_server_twice_passes_twice_and_leaves_nothing(
    empty_user_server: ServerInfo,
) -> None:
    # Step 07's known-wrong answer rename_away.py leaves a 16 MB hash in a lane's database;
    # step 04's reference solution then failed on the next verify.
    command = ["verify", "module3", "--url", empty_user_server.url, "-j", "4"]
    for attempt in (1, 2):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, f"attempt {attempt}:\n{result.output}"
        assert every_key(empty_user_server.url) == {0: {USED_MARKER.encode()}}


def test_the_lazyfree_check_leaves_no_cache_file_for_a_server_not_ours(
    tmp_path: Path, module3: Module, hermetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    # A server whose folder is not one the workshop made: someone else's, as far as the check
    # can tell.
    data = tmp_path / "their-data"
    data.mkdir(mode=0o700)
    with EmbeddedBackend(data_dir=data) as info:
        theirs = UrlBackend(info.url).start()
        step = module3.step("lazyfree")
        learner_file(hermetic, step.exercise_filename, step.solution.read_text())
        outcome = check(module3, hermetic, theirs, "lazyfree")
        assert outcome.report.steps[0].passed, outcome.report.steps[0]
        forget_guard(theirs)
    assert [path.name for path in temp.iterdir() if path.name.startswith("valkey-workshop-")] == []


# -- the module declares its keys -------------------------------------------------------
def test_module_toml_declares_owned_keys_and_a_bad_glob_is_one_clear_line(tmp_path: Path) -> None:
    source = Path(__file__).parents[2] / "labs" / "module3"
    assert load_module("module3").owned_keys == ("product:*:details", "product:write-queue")
    root = tmp_path / "labs"
    copy = root / "module3"
    copy.mkdir(parents=True)
    for entry in source.iterdir():
        (copy / entry.name).symlink_to(entry)
    (copy / "module.toml").unlink()
    manifest = (source / "module.toml").read_text()
    for bad, says in (
        ('"cart:[abc"', "a '[' is never closed"),
        ('"*:details"', "starts with a wildcard"),
        ('"cart items"', "blank"),
        ("3", "must be a text"),
    ):
        text = manifest.replace(
            'owned_keys = ["product:*:details", "product:write-queue"]', f"owned_keys = [{bad}]"
        )
        (copy / "module.toml").write_text(text)
        with pytest.raises(ContentError) as raised:
            load_module("module3", root)
        line = str(raised.value)
        assert line.startswith(f"{copy / 'module.toml'}: owned_keys[1]"), line
        assert says in line and "\n" not in line
    loaded_keys = manifest.replace(
        'owned_keys = ["product:*:details", "product:write-queue"]', 'owned_keys = ["cart:*"]'
    )
    (copy / "module.toml").write_text(loaded_keys)
    assert load_module("module3", root).step("cache-aside").owned_keys == ("cart:*",)


def test_the_engine_names_no_courses_keys() -> None:
    engine = Path(__file__).parents[2] / "valkey_workshop"
    found = [
        f"{path}:{number}"
        for path in engine.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "product:" in line
    ]
    assert found == []


def test_declared_keys_count_as_the_workshops_only_through_the_declaration(
    empty_user_server: ServerInfo, module3: Module
) -> None:
    # A module that declares cart:* treats an application's cart:1 as a lookalike (refused on a
    # server the workshop never ran on); module3's product:* keys mean nothing to it.
    step = module3.step("write-patterns")
    other = type(step)(**{**step.__dict__, "owned_keys": ("cart:*",)})
    client = valkey.Valkey.from_url(empty_user_server.url)
    client.set("cart:1", "theirs")
    guard = guard_for(empty_user_server)
    refusal = guard.refuse_if_foreign(other)
    assert refusal is not None and refusal.named_alike
    assert "writes and deletes keys named cart:*" in refusal.message
    client.delete("cart:1")
    client.set("product:1:details", "theirs")
    assert guard.refuse_if_foreign(other) is None  # not named like this module's keys
    assert client.get("product:1:details") == b"theirs"
    client.close()


def test_a_command_the_user_may_not_run_inside_the_checks_is_cannot_run_here(
    empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    # The probe cannot foresee every command a check sends: a refusal met inside the checks
    # (here TYPE, which step 02's checks send) is "cannot run here", not a failed step.
    url = user_of(empty_user_server, "notype", "~*", "&*", "+@all", "-type")
    step = module3.step("cache-aside")
    learner_file(hermetic, step.exercise_filename, step.solution.read_text())
    result = runner.invoke(app, ["check", "module3", "cache-aside", "--url", url])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Step 02 cache-aside cannot run here: the server refused a command to this user" in text
    assert "Traceback" not in result.output


def test_a_command_the_guard_needs_and_may_not_run_is_cannot_run_here(
    empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    url = user_of(empty_user_server, "nopttl", "~*", "&*", "+@all", "-pttl")
    step = module3.step("cache-aside")
    learner_file(hermetic, step.exercise_filename, step.solution.read_text())
    result = runner.invoke(app, ["check", "module3", "cache-aside", "--url", url])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Step 02 cache-aside cannot run here: the server does not let this user run" in text
    assert "Traceback" not in result.output


# -- a start that fails because of the network; a --url that is not Valkey -------------------
def _can_unshare_network() -> bool:
    try:
        done = subprocess.run(
            ["unshare", "-rn", "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.skipif(not _can_unshare_network(), reason="needs unprivileged network namespaces")
def test_a_start_with_the_loopback_down_says_the_connect_error() -> None:
    # A new network namespace has its loopback interface down: the server starts and logs
    # "Ready to accept connections", and nothing can connect to it.
    code = (
        "from valkey_workshop.server.embedded import EmbeddedBackend\n"
        "from valkey_workshop.errors import ServerError\n"
        "try:\n"
        "    EmbeddedBackend(startup_timeout=60).start()\n"
        "except ServerError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = " ".join(done.stdout.split())
    assert "Network is unreachable" in text, done.stdout + done.stderr
    assert "did not answer within" not in text
    assert "loopback interface" in text


class _NotValkey:
    """A loopback server that answers every request with an HTTP 400, as a web server does."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection, contextlib.suppress(OSError):
                while connection.recv(4096):
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.socket.close()


@pytest.mark.parametrize(
    "command",
    [["check", "module3", "cache-aside"], ["demo", "module3", "cache-aside", "--no-pause"]],
    ids=["check", "demo"],
)
def test_a_url_that_is_not_valkey_is_one_line_and_exit_2(command: list[str]) -> None:
    web = _NotValkey()
    try:
        result = runner.invoke(app, [*command, "--url", f"valkey://127.0.0.1:{web.port}"])
    finally:
        web.close()
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "InvalidResponse" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert "does not speak Valkey's protocol" in " ".join(result.output.split())
