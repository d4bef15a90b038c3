"""The server guard against real servers: a second embedded server plays the user's server
(reached through --url, so it is not ours), a private one plays the workshop's own."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import valkey
from junitparser import JUnitXml
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.commands.check import check_steps
from valkey_workshop.content import Module
from valkey_workshop.interactive.guided import GuidedSession
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.embedded import EmbeddedBackend
from valkey_workshop.server.guard import (
    USED_MARKER,
    Aftermath,
    ServerGuard,
    forget_guard,
    guard_for,
    is_workshop_key,
)
from valkey_workshop.server.url import UrlBackend
from valkey_workshop.session.workdir import Workdir

runner = CliRunner()


def db_url(url: str, db: int) -> str:
    return url.rsplit("/", 1)[0] + f"/{db}"


@pytest.fixture
def user_server() -> Iterator[ServerInfo]:
    """Someone else's server with their own data in db 0 and db 1 (reached through --url)."""
    with EmbeddedBackend() as info:
        db0 = valkey.Valkey.from_url(db_url(info.url, 0))
        db1 = valkey.Valkey.from_url(db_url(info.url, 1))
        db0.mset({f"user:{i}": "precious" for i in range(1000)})
        db1.mset({f"session:{i}": "precious" for i in range(22)})
        db0.close()
        db1.close()
        theirs = UrlBackend(info.url).start()
        yield theirs
        forget_guard(theirs)


@pytest.fixture
def empty_user_server() -> Iterator[ServerInfo]:
    """Someone else's server (reached through --url) that holds no data of its own: learner
    code may run there, and the guard must still put its settings back."""
    with EmbeddedBackend() as info:
        theirs = UrlBackend(info.url).start()
        yield theirs
        forget_guard(theirs)


@pytest.fixture
def private_server() -> Iterator[ServerInfo]:
    """A server of the workshop's own, for tests that try to break it."""
    backend = EmbeddedBackend()
    with backend as info:
        yield info
        forget_guard(info)


def learner_file(workdir: Path, step_file: str, code: str) -> Path:
    path = workdir / "module3" / step_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code, encoding="utf-8")
    return path


def settings(url: str) -> dict[str, str]:
    client = valkey.Valkey.from_url(url, decode_responses=True)
    try:
        return {str(k): str(v) for k, v in client.config_get("*").items()}
    finally:
        client.close()


def attempts(workdir: Path, slug: str) -> int:
    progress = workdir / ".workshop-progress.json"
    if not progress.exists():
        return 0
    steps = json.loads(progress.read_text())["modules"]["module3"]["steps"]
    return int(steps.get(slug, {}).get("attempts", 0))


# -- 1. a step that changes server-wide state refuses a server holding others' data -------
def test_own_keys(module3: Module) -> None:
    declared = module3.owned_keys
    assert declared == ("product:*:details", "product:write-queue")
    assert is_workshop_key("workshop:evict:00001")
    assert is_workshop_key("workshop:demo:pipe:00001", declared)
    assert is_workshop_key("product:P1:details", declared)
    assert is_workshop_key("product:write-queue", declared)
    assert not is_workshop_key("product:P1:details")  # only a module's declaration names it
    assert not is_workshop_key("product:P1", declared)
    assert not is_workshop_key("user:1", declared)
    assert not is_workshop_key("demo:evict:1", declared)


def test_eviction_refuses_a_server_with_other_data_and_touches_nothing(
    user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "04_eviction.py", module3.step("eviction").solution.read_text())
    before = settings(user_server.url)
    result = runner.invoke(app, ["check", "module3", "eviction", "--url", user_server.url])
    assert result.exit_code == 2, result.output
    text = " ".join(result.stdout.split())
    assert "NOT RUN" in text
    assert "This server holds 1,022 other keys (db 0: 1,000; db 1: 22" in text
    assert "--backend embedded" in text
    assert "Traceback" not in result.output
    db0 = valkey.Valkey.from_url(db_url(user_server.url, 0))
    db1 = valkey.Valkey.from_url(db_url(user_server.url, 1))
    assert (db0.dbsize(), db1.dbsize()) == (1000, 22)
    assert settings(user_server.url) == before
    assert attempts(hermetic, "eviction") == 0  # not a failed attempt

    junit = hermetic / "report.xml"
    command = ["check", "module3", "eviction", "--url", user_server.url, "--json"]
    as_json = runner.invoke(app, [*command, "--junit-xml", str(junit)])
    step = json.loads(as_json.stdout)["steps"][0]
    assert step["passed"] is False
    assert "1,022 other keys" in step["not_run"]
    assert '<skipped message="Step 04 eviction changes server-wide' in junit.read_text()
    counted = JUnitXml.fromfile(str(junit))  # as CI counts it: nothing ran, nothing failed
    assert (counted.tests, counted.failures, counted.errors, counted.skipped) == (1, 0, 0, 1)


def test_no_learner_code_runs_on_a_server_holding_others_data(
    user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    # The course's own known-wrong answer empties its database: on a user's server with data
    # of its own, no step runs at all (attack run: 1,002 keys lost this way).
    step = module3.step("cache-aside")
    learner_file(
        hermetic, "02_cache_aside.py", (step.folder / "wrong" / "flush_database.py").read_text()
    )
    result = runner.invoke(app, ["check", "module3", "cache-aside", "--url", user_server.url])
    assert result.exit_code == 2, result.output
    text = " ".join(result.stdout.split())
    assert "NOT RUN" in text and "runs your exercise code" in text
    db0 = valkey.Valkey.from_url(db_url(user_server.url, 0))
    db1 = valkey.Valkey.from_url(db_url(user_server.url, 1))
    assert (db0.dbsize(), db1.dbsize()) == (1000, 22)
    assert attempts(hermetic, "cache-aside") == 0


def test_eviction_demo_refuses_the_same_way(user_server: ServerInfo) -> None:
    result = runner.invoke(
        app, ["demo", "module3", "eviction", "--no-pause", "--url", user_server.url]
    )
    assert result.exit_code == 2  # a refusal, as every refusal
    text = " ".join(result.output.split())
    assert "The demo of 04 eviction did not run" in text
    assert "1,022 other keys" in text
    db0 = valkey.Valkey.from_url(db_url(user_server.url, 0))
    assert db0.dbsize() == 1000


def test_a_demo_never_touches_an_applications_keys_named_like_the_exercises(
    user_server: ServerInfo,
) -> None:
    db0 = valkey.Valkey.from_url(db_url(user_server.url, 0))
    demo = ["demo", "module3", "write-patterns", "--no-pause", "--db-latency", "0.01"]
    # The demo of step 08 runs beside other data (it writes only the workshop's keys)...
    ran = runner.invoke(app, [*demo, "--url", user_server.url])
    assert ran.exit_code == 0, ran.output
    assert db0.dbsize() == 1000  # the user's 1,000 keys, and nothing of the demo's left
    # ... but an application that uses the very names the exercises use is refused, whole.
    db0.xadd("product:write-queue", {"order": "A-17"})
    db0.set("product:P123:details", '{"id": "P123", "price": 12.5}')
    refused = runner.invoke(app, [*demo, "--url", user_server.url])
    text = " ".join(refused.output.split())
    assert "The demo of 08 write-patterns did not run" in text, text
    assert "this server holds 2 keys with those names" in text
    assert db0.xlen("product:write-queue") == 1
    assert db0.get("product:P123:details") == b'{"id": "P123", "price": 12.5}'
    db0.close()


def test_a_server_holding_only_workshop_keys_is_not_refused(
    user_server: ServerInfo, module3: Module
) -> None:
    for db in (0, 1):
        valkey.Valkey.from_url(db_url(user_server.url, db)).flushdb()
    client = valkey.Valkey.from_url(user_server.url)
    guard = ServerGuard(user_server)
    # An application's own key with an exercise key's name, on a server the workshop has
    # never run on: someone else's data.
    client.set("product:P1:details", '{"id": "P1"}')
    refusal = guard.refuse_if_foreign(module3.step("eviction"))
    assert refusal is not None and refusal.foreign_count == 1
    assert "1 of them is named like the workshop's keys" in refusal.message
    assert not client.exists(USED_MARKER)  # a refusal changes nothing
    client.delete("product:P1:details")
    client.set("workshop:left:over", 1)
    assert guard.refuse_if_foreign(module3.step("eviction")) is None
    assert client.exists(USED_MARKER)  # the workshop has run here from now on
    client.set("product:P1:details", "{}")  # now a leftover of the workshop's own runs
    assert guard.refuse_if_foreign(module3.step("eviction")) is None
    client.set("product:P1", "not an exercise key")
    refusal = guard.refuse_if_foreign(module3.step("eviction"))
    assert refusal is not None
    assert refusal.foreign_count == 1
    assert guard.refuse_if_foreign(module3.step("cache-aside")) is None  # changes nothing
    guard.close()


# -- 2. settings are put back by the parent, even after the time limit killed the worker ---
LOOPS_AFTER_SETTING_MEMORY = """\
import valkey
from valkey_workshop.checking import api

def get_product_details(client, db, product_id):
    client.config_set("maxmemory", 1024 * 1024)
    client.config_set("maxmemory-policy", "allkeys-lru")
    while True:
        pass

def update_product(client, db, product_id, changes):
    return get_product_details(client, db, product_id)
"""


def test_a_check_killed_by_its_time_limit_leaves_the_settings_as_they_were(
    empty_user_server: ServerInfo, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", LOOPS_AFTER_SETTING_MEMORY)
    before = settings(empty_user_server.url)
    result = runner.invoke(
        app,
        ["check", "module3", "cache-aside", "--url", empty_user_server.url, "--time-limit", "1.5"],
    )
    assert result.exit_code == 1, result.output
    assert "did not finish within 1.5 s" in result.stdout
    assert "set back: maxmemory, maxmemory-policy" in " ".join(result.stderr.split())
    after = settings(empty_user_server.url)
    assert after["maxmemory"] == before["maxmemory"] == "0"
    assert after["maxmemory-policy"] == "noeviction"
    assert after == before


# -- 3. the private server stays private ------------------------------------------------
OPENS_THE_SERVER = """\
def get_product_details(client, db, product_id):
    client.config_set("bind", "0.0.0.0")
    client.config_set("protected-mode", "no")
    client.config_set("requirepass", "")
    client.execute_command("ACL", "SETUSER", "default", "nopass")
    client.execute_command("ACL", "SETUSER", "intruder", "on", ">pw", "~*", "+@all")
    return None

def update_product(client, db, product_id, changes):
    return None
"""


def test_learner_code_cannot_leave_the_server_open(
    private_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", OPENS_THE_SERVER)
    outcome = check_steps(
        module3, (module3.step("cache-aside"),), Workdir(hermetic), private_server
    )
    assert not outcome.report.passed
    notices = " ".join(outcome.notices)
    assert "keep the server private (bind, protected-mode, requirepass, ACL users)" in notices
    after = settings(private_server.url)
    assert after["bind"] == "127.0.0.1"
    assert after["protected-mode"] == "yes"
    port = int(private_server.url.rsplit(":", 1)[1].split("/")[0])
    anonymous = valkey.Valkey(host="127.0.0.1", port=port, socket_timeout=2)
    with pytest.raises(valkey.AuthenticationError):
        anonymous.ping()
    intruder = valkey.Valkey(
        host="127.0.0.1", port=port, username="intruder", password="pw", socket_timeout=2
    )
    with pytest.raises(valkey.AuthenticationError):
        intruder.ping()
    assert valkey.Valkey.from_url(private_server.url).ping()


MOVES_THE_PORT = """\
def get_product_details(client, db, product_id):
    client.config_set("port", 0)
    return None

def update_product(client, db, product_id, changes):
    return None
"""


def test_a_changed_port_is_put_back(
    private_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", MOVES_THE_PORT)
    guard = guard_for(private_server)
    guard.snapshot()  # the guard's connection exists before the port moves
    outcome = check_steps(
        module3, (module3.step("cache-aside"),), Workdir(hermetic), private_server
    )
    assert outcome.server_stopped is None, outcome.notices
    assert valkey.Valkey.from_url(private_server.url, socket_timeout=2).ping()


SHUTS_DOWN = """\
def get_product_details(client, db, product_id):
    client.shutdown(nosave=True)

def update_product(client, db, product_id, changes):
    return None
"""


def test_check_says_once_that_the_server_stopped_and_exits_2(hermetic: Path) -> None:
    learner_file(hermetic, "02_cache_aside.py", SHUTS_DOWN)
    result = runner.invoke(app, ["check", "module3", "cache-aside", "--backend", "embedded"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "NOT RUN" in result.stdout
    errors = " ".join(result.stderr.split())
    assert errors.count("Error: The server stopped during the checks of step 02") == 1
    assert attempts(hermetic, "cache-aside") == 0


def test_guided_session_restarts_a_stopped_server_and_goes_on(
    private_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", SHUTS_DOWN)
    session = GuidedSession(module3, Workdir(hermetic), private_server, module3.step("cache-aside"))
    result = session.check()
    assert session.last_outcome is not None
    assert session.last_outcome.server_stopped is not None
    assert result.not_run is not None
    assert any(n.startswith("The server stopped; restarting") for n in session.last_outcome.notices)
    assert valkey.Valkey.from_url(private_server.url, socket_timeout=2).ping()  # same URL
    assert attempts(hermetic, "cache-aside") == 0
    shutil.copyfile(module3.step("cache-aside").solution, session.exercise)
    assert session.check().passed  # the session goes on, on the restarted server


BUSY_SCRIPT = """\
def get_product_details(client, db, product_id):
    client.eval("while true do end", 0)

def update_product(client, db, product_id, changes):
    return None
"""
BUSY_FUNCTION = """\
LIBRARY = "#!lua name=spin\\nserver.register_function('spin', function() while true do end end)"

def get_product_details(client, db, product_id):
    client.function_load(LIBRARY, replace=True)
    client.fcall("spin", 0)

def update_product(client, db, product_id, changes):
    return None
"""


@pytest.mark.parametrize(
    ("code", "kill"), [(BUSY_SCRIPT, "SCRIPT KILL"), (BUSY_FUNCTION, "FUNCTION KILL")]
)
def test_a_busy_script_is_killed_after_the_time_limit(
    private_server: ServerInfo, module3: Module, hermetic: Path, code: str, kill: str
) -> None:
    admin = valkey.Valkey.from_url(private_server.url)
    admin.config_set("busy-reply-threshold", 300)  # keeps the test short; restored by the guard
    learner_file(hermetic, "02_cache_aside.py", code)
    started = time.perf_counter()
    outcome = check_steps(
        module3, (module3.step("cache-aside"),), Workdir(hermetic), private_server, 1.0
    )
    assert time.perf_counter() - started < 10
    assert outcome.server_stopped is None
    assert any(kill in notice for notice in outcome.notices), outcome.notices
    assert admin.ping()
    assert admin.config_get("busy-reply-threshold")["busy-reply-threshold"] == "300"
    messages = " ".join(check.message for check in outcome.report.steps[0].checks)
    assert "Traceback" not in messages  # the attack run saw two valkey-py tracebacks here


def test_the_guard_finds_nothing_after_code_that_changed_nothing(
    private_server: ServerInfo, module3: Module
) -> None:
    # What a run costs is measured in benchmarks/guard_cost.py, not here: a timed assertion
    # fails on a loaded machine and says nothing about the guard.
    guard = ServerGuard(private_server)
    step = module3.step("eviction")
    guard.run(step, lambda: None)  # first connection
    for _ in range(20):
        run = guard.run(step, lambda: None)
        assert run.aftermath == Aftermath()  # nothing found, nothing put back
    guard.close()


def test_verify_refuses_a_server_holding_other_data(user_server: ServerInfo) -> None:
    # verify runs known-wrong answers; one of step 02's empties its database (FLUSHDB).
    result = runner.invoke(app, ["verify", "module3", "cache-aside", "--url", user_server.url])
    assert result.exit_code == 2, result.output  # a refusal, as every refusal
    text = " ".join(result.stdout.split())
    assert "runs on this server" in text and "1,022 other keys" in text
    assert valkey.Valkey.from_url(db_url(user_server.url, 0)).dbsize() == 1000
    assert valkey.Valkey.from_url(db_url(user_server.url, 1)).dbsize() == 22


def test_a_server_that_refuses_config_still_checks(
    empty_user_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    # As on a managed service: the learner's user may not run CONFIG or ACL.
    admin = valkey.Valkey.from_url(empty_user_server.url)
    admin.execute_command("ACL", "SETUSER", "learner", "on", ">pw", "~*", "&*", "+@all", "-config")
    admin.execute_command("ACL", "SETUSER", "learner", "-acl")
    port = empty_user_server.url.rsplit(":", 1)[1]
    url = f"valkey://learner:pw@127.0.0.1:{port}"
    learner_file(hermetic, "02_cache_aside.py", module3.step("cache-aside").solution.read_text())
    result = runner.invoke(app, ["check", "module3", "cache-aside", "--url", url])
    assert result.exit_code == 0, result.output
    admin.set("user:1", "theirs")  # the owner's data arrives: nothing runs any more
    refused = runner.invoke(app, ["check", "module3", "eviction", "--url", url])
    assert refused.exit_code == 2
    assert "This server holds 1 other key" in " ".join(refused.stdout.split())
    assert admin.get("user:1") == b"theirs"
    admin.close()


def test_overlapping_runs_on_one_server_restore_once_all_have_ended(
    private_server: ServerInfo, module3: Module
) -> None:
    # Parallel proofs share a guard: a run that ends early must not undo a neighbour's
    # settings half-way; the last one to end puts everything back.
    guard = guard_for(private_server)
    admin = valkey.Valkey.from_url(private_server.url, decode_responses=True)
    changed = threading.Event()
    seen: list[str] = []

    def changes_policy() -> None:
        admin.config_set("maxmemory-policy", "allkeys-lru")
        changed.set()
        time.sleep(0.4)
        seen.append(admin.config_get("maxmemory-policy")["maxmemory-policy"])

    def quick() -> None:
        changed.wait(5)

    step = module3.step("cache-aside")
    with ThreadPoolExecutor(4) as pool:
        runs = [pool.submit(guard.run, step, changes_policy)]
        runs += [pool.submit(guard.run, step, quick) for _ in range(3)]
        results = [run.result(timeout=30) for run in runs]
    assert seen == ["allkeys-lru"]  # not undone while it ran
    assert admin.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    assert sum("maxmemory-policy" in r.aftermath.restored for r in results) == 1


LOCKS_THE_GUARD_OUT = """\
def get_product_details(client, db, product_id):
    client.execute_command("ACL", "SETUSER", "default", "-@all", "+ping")

def update_product(client, db, product_id, changes):
    return None
"""


def test_a_server_whose_settings_cannot_be_put_back_is_restarted(
    private_server: ServerInfo, module3: Module, hermetic: Path
) -> None:
    learner_file(hermetic, "02_cache_aside.py", LOCKS_THE_GUARD_OUT)
    outcome = check_steps(
        module3,
        (module3.step("cache-aside"),),
        Workdir(hermetic),
        private_server,
        restart_stopped=True,
    )
    assert outcome.server_stopped is not None
    assert "could not be put back" in " ".join(outcome.notices)
    client = valkey.Valkey.from_url(private_server.url, decode_responses=True)
    assert client.config_get("maxmemory")  # full rights again, on the restarted server
    assert attempts(hermetic, "cache-aside") == 0


def test_acl_users_are_put_back_selectors_included(
    private_server: ServerInfo, user_server: ServerInfo, module3: Module
) -> None:
    step = module3.step("cache-aside")
    for server, owned in ((private_server, True), (user_server, False)):
        admin = valkey.Valkey.from_url(server.url, decode_responses=True)
        admin.execute_command(
            "ACL", "SETUSER", "app", "on", ">pw", "~app:*", "+get", "(~cache:* +set)"
        )
        before = admin.acl_list()

        def tamper(admin: valkey.Valkey = admin) -> None:
            admin.execute_command("ACL", "SETUSER", "app", "nopass", "allkeys", "+@all")
            admin.execute_command("ACL", "SETUSER", "newcomer", "on", ">pw")

        run = ServerGuard(server).run(step, tamper)
        assert "ACL users" in run.aftermath.secured
        after = admin.acl_list()
        app_line = next(line for line in before if line.startswith("user app "))
        assert app_line in after
        # On our own server a user added during the run goes; on someone else's it stays.
        assert any(line.startswith("user newcomer ") for line in after) is not owned


def test_a_checks_own_acl_user_outlives_another_lanes_run_and_not_the_last(
    private_server: ServerInfo,
) -> None:
    """Lanes share a Docker or local server: one lane's run ending must not delete the ACL user
    a check in another lane is logged in as (it closed that check's connection), while the
    last run to end still removes it, and any other user a run added, at once."""
    guard = guard_for(private_server)
    admin = valkey.Valkey.from_url(private_server.url, decode_responses=True)
    seen: dict[str, bool] = {}

    def other_lane() -> None:
        return None

    def this_lane() -> None:
        admin.execute_command("ACL", "SETUSER", "workshop-check-lane1", "on", ">pw", "+ping")
        admin.execute_command("ACL", "SETUSER", "intruder", "on", ">pw", "+ping")
        guard.run(None, other_lane)  # another lane's whole run, inside this one
        users = set(admin.acl_users())
        seen["check user"] = "workshop-check-lane1" in users
        seen["intruder"] = "intruder" in users

    try:
        guard.run(None, this_lane)
        assert seen == {"check user": True, "intruder": False}
        assert set(admin.acl_users()) == {"default"}  # the last run took the check user away
    finally:
        for user in ("workshop-check-lane1", "intruder"):
            admin.acl_deluser(user)
        admin.close()
