"""The fork server (``checking/forkserver.py``, the runner's side, and
``checking/forkserver_process.py``, inside it; issue 12): the same verdicts as a worker process
of its own, a clean slate for every run, and nothing left behind.

Real learner files, the real worker, the real embedded server; the process-per-run path is
what ``WORKSHOP_FORK_SERVER=0`` (and Windows, macOS) takes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import all_gone, pid_alive, wait_until, worker_pids
from tests.integration.answers import solution, with_update_body
from valkey_workshop.checking import forkserver, run_step_checks
from valkey_workshop.checking.results import StepResult
from valkey_workshop.content import Module
from valkey_workshop.server.base import ServerInfo

pytestmark = pytest.mark.skipif(
    not forkserver.available() and os.environ.get(forkserver.FORK_SERVER_ENV) != "0",
    reason="the fork server runs on Linux with pidfd_open (kernel 5.3+)",
)


def _check(
    folder: Path, text: str, module3: Module, server: ServerInfo, limit: float | None = None
) -> StepResult:
    folder.mkdir(parents=True, exist_ok=True)
    exercise = folder / "02_cache_aside.py"
    exercise.write_text(text, encoding="utf-8")
    return run_step_checks(module3.step("cache-aside"), exercise, server.url, limit)


#: `workshop check` of step 02, as a learner runs it.
CHECK_02 = [sys.executable, "-m", "valkey_workshop", "check", "module3", "cache-aside"]


def _workshop_env(workdir: Path, server: ServerInfo) -> dict[str, str]:
    """A `workshop` process on ``server`` (through --url) with the fork server on."""
    return {
        **os.environ,
        "WORKSHOP_WORKDIR": str(workdir),
        "WORKSHOP_BACKEND": "url",
        "VALKEY_URL": server.url,
        forkserver.FORK_SERVER_ENV: "1",
    }


def _escape(
    pids: Path, *, daemon: bool = True, new_session: bool = True, lifetime: int = 120
) -> str:
    """Learner lines that leave the worker's process group (a double-fork daemon that makes a
    session of its own; a child started in a new session), note each PID in ``pids`` and go
    on only once both have escaped: a signal, not a sleep, which a loaded machine outruns.
    Each escaped process ends by itself after ``lifetime`` seconds (a test that waits for them
    to be stopped must wait less than that)."""
    lines = ["import os, subprocess, time"]
    if new_session:
        lines += [
            f"_child = subprocess.Popen(['sleep', '{lifetime}'], start_new_session=True)",
            "while os.getsid(_child.pid) == os.getsid(0):",
            "    time.sleep(0.005)",
            f"open({str(pids)!r}, 'a').write(f'{{_child.pid}}\\n')",
        ]
    if daemon:
        lines += [
            "_ready, _tell = os.pipe()",
            "if os.fork() == 0:",
            "    os.setsid()",
            "    if os.fork() == 0:",
            f"        open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')",
            "        os.write(_tell, b'x')",
            f"        time.sleep({lifetime})",
            "    os._exit(0)",
            "os.close(_tell)",
            "os.read(_ready, 1)",
            "os.close(_ready)",
        ]
    return "\n".join(lines) + "\n"


def _verdict(result: StepResult) -> tuple[object, ...]:
    """What must not depend on how the worker was started."""
    problem = (result.problem or "").split("(exit code")[0].split(" within ")[0]
    return (
        result.passed,
        problem,
        tuple((check.id, check.passed, check.ran) for check in result.checks),
    )


@pytest.fixture
def servers_of_this_test() -> object:
    forkserver.stop_all()  # a fresh pool: what this test counts is its own
    yield
    forkserver.stop_all()


def test_both_ways_of_starting_a_worker_give_the_same_verdicts(
    tmp_path: Path, module3: Module, server: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = {
        "solution": (solution(module3), None),
        "starter": (module3.step("cache-aside").starter.read_text(encoding="utf-8"), None),
        "os._exit": (with_update_body(module3, "import os\nos._exit(3)\n"), None),
        "endless loop": (with_update_body(module3, "while True:\n    pass\n"), 2.0),
        "KeyboardInterrupt": (with_update_body(module3, "raise KeyboardInterrupt\n"), None),
        "sys.exit on import": ("import sys\nsys.exit(4)\n", None),
        "syntax error": ("def broken(:\n", None),
    }
    verdicts: dict[str, dict[str, tuple[object, ...]]] = {}
    for way, setting in (("fork server", "1"), ("own process", "0")):
        monkeypatch.setenv(forkserver.FORK_SERVER_ENV, setting)
        verdicts[way] = {
            name: _verdict(_check(tmp_path / way / name, code, module3, server, limit))
            for name, (code, limit) in cases.items()
        }
    assert verdicts["fork server"] == verdicts["own process"]
    assert verdicts["fork server"]["solution"][0] is True
    assert not any(
        verdict[0] for name, verdict in verdicts["own process"].items() if name != "solution"
    )


@pytest.mark.usefixtures("servers_of_this_test")
def test_one_fork_server_serves_many_runs_and_nothing_carries_over(
    tmp_path: Path, module3: Module, server: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(forkserver.FORK_SERVER_ENV, "1")
    notes = tmp_path / "notes.txt"
    # Run 1 breaks modules the checks and the next learner use, notes its randomness and the
    # environment it saw, and fails.
    breaker = (
        "import json, os, random, valkey\n"
        "json.dumps = lambda *a, **k: 'broken'\n"
        "valkey.Valkey.get = lambda self, *a, **k: b'broken'\n"
        f"open({str(notes)!r}, 'a').write(f'{{random.getrandbits(64)}} "
        '{os.environ.get("WORKSHOP_PROBE")}\\n\')\n' + solution(module3)
    )
    monkeypatch.setenv("WORKSHOP_PROBE", "first")
    assert not _check(tmp_path / "one", breaker, module3, server).passed
    first_server = worker_pids(os.getpid())
    assert len(first_server) == 2, first_server  # the fork server and its keeper
    monkeypatch.setenv("WORKSHOP_PROBE", "second")
    assert not _check(tmp_path / "two", breaker, module3, server).passed
    # Run 3, the reference solution, meets a json and a valkey nobody has touched.
    assert _check(tmp_path / "three", solution(module3), module3, server).passed
    assert worker_pids(os.getpid()) == first_server, "one fork server, reused"
    first, second = (line.split() for line in notes.read_text().splitlines())
    assert first[0] != second[0], "each forked worker draws its own random numbers"
    assert (first[1], second[1]) == ("first", "second"), "each run sees the current environment"


@pytest.mark.usefixtures("servers_of_this_test")
def test_learner_code_that_kills_its_parent_fails_and_harms_nothing(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """The parent is the fork server: killed, it is replaced and the run tried once more;
    killed again, the step fails and says why. It is never run in a process whose parent is
    the workshop itself (which the code would kill)."""
    exercise = tmp_path / "w" / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text(
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + solution(module3)
    )
    done = subprocess.run(
        CHECK_02,
        env={**_workshop_env(tmp_path / "w", server), "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = " ".join(done.stdout.split())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "its parent, the workshop's fork server, was killed" in text
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.usefixtures("servers_of_this_test")
def test_learner_code_cannot_forge_the_fork_servers_answers(
    tmp_path: Path, module3: Module, server: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker holds no descriptor of the fork server's: an answer written to every open
    descriptor reaches nobody, and the runs after it are judged on their own."""
    monkeypatch.setenv(forkserver.FORK_SERVER_ENV, "1")
    seen = tmp_path / "fds.txt"
    forger = (
        "import os\n"
        f"open({str(seen)!r}, 'w').write(' '.join(os.readlink(f'/proc/self/fd/{{fd}}') "
        "for fd in map(int, os.listdir('/proc/self/fd')) if os.path.exists(f'/proc/self/fd/{fd}')))\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        '        os.write(fd, b\'{"started": 1}\\n{"returncode": 0, "timed_out": false}\\n\')\n'
        "    except OSError:\n"
        "        pass\n" + solution(module3)
    )
    first = _check(tmp_path / "one", forger, module3, server)
    assert "pipe:" not in seen.read_text(), seen.read_text()
    for attempt in range(3):
        again = _check(tmp_path / f"again{attempt}", solution(module3), module3, server)
        assert again.passed, again.problem
    # Its lines did reach the result file it holds open: that run fails, and says why.
    assert first.problem is not None and "the checker did not write" in first.problem


@pytest.mark.usefixtures("servers_of_this_test")
def test_stop_all_leaves_no_fork_server(
    tmp_path: Path, module3: Module, server: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(forkserver.FORK_SERVER_ENV, "1")
    assert _check(tmp_path, solution(module3), module3, server).passed
    fork_server = worker_pids(os.getpid())
    assert fork_server
    forkserver.stop_all()
    assert not [pid for pid in fork_server if pid_alive(pid)]


def test_run_outside_linux_is_a_worker_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.delenv(forkserver.FORK_SERVER_ENV, raising=False)
    assert not forkserver.available()


@pytest.mark.usefixtures("servers_of_this_test")
@pytest.mark.parametrize("escape", ["double fork and setsid", "setsid child of a live process"])
def test_processes_that_leave_the_workers_group_are_stopped_too(
    escape: str,
    tmp_path: Path,
    module3: Module,
    server: ServerInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process group kill misses a process that made a session of its own; the fork server
    is their subreaper, so they come back to it and it stops them after the run."""
    monkeypatch.setenv(forkserver.FORK_SERVER_ENV, "1")
    pids = tmp_path / "escaped.pids"
    daemon = escape == "double fork and setsid"
    body = _escape(pids, daemon=daemon, new_session=not daemon)
    result = _check(tmp_path, with_update_body(module3, body), module3, server)
    assert result.passed, result.problem
    escaped = [int(pid) for pid in pids.read_text().split()]
    assert escaped
    wait_until(lambda: all_gone(escaped), "a process outlived its check")


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_stopping_the_workshop_mid_check_stops_processes_that_left_the_group(
    signal_name: str, tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """Ctrl-C or SIGTERM of `workshop` while learner code runs: the fork server is asked to
    stop (not killed), so it still stops what moved out of the worker's group."""
    pids = tmp_path / "escaped.pids"
    exercise = tmp_path / "w" / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text(with_update_body(module3, _escape(pids) + "while True:\n    pass\n"))
    process = subprocess.Popen(
        CHECK_02,
        env=_workshop_env(tmp_path / "w", server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: pids.exists() and len(pids.read_text().split()) >= 2,
            "learner code never started its processes",
            process=process,
        )
        escaped = [int(pid) for pid in pids.read_text().split()]
        assert all(pid_alive(pid) for pid in escaped)
        process.send_signal(getattr(signal, signal_name))
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + getattr(signal, signal_name), stderr
    wait_until(lambda: all_gone(escaped), "a process outlived the workshop")


def test_processes_that_left_the_group_are_stopped_even_when_the_code_kills_the_fork_server(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """Escape first (a double-fork daemon, a new-session process), then kill the parent: the
    fork server's keeper, their subreaper now, stops them."""
    pids = tmp_path / "escaped.pids"
    exercise = tmp_path / "w" / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text(
        _escape(pids)
        + "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
        + solution(module3)
    )
    done = subprocess.run(
        CHECK_02,
        env=_workshop_env(tmp_path / "w", server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    escaped = [int(pid) for pid in pids.read_text().split()]
    assert len(escaped) == 4  # two per attempt
    wait_until(lambda: all_gone(escaped), "a process outlived the check")


def test_learner_code_that_stops_the_workshop_cannot_hang_it(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """SIGSTOP cannot be caught: learner code that finds the workshop process (an ancestor,
    same user) and stops it hung it for ever. The fork server resumes it."""
    exercise = tmp_path / "w" / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text(
        with_update_body(
            module3,
            """
            import os, signal
            _pid = os.getppid()
            while _pid > 1:
                _cmd = open(f"/proc/{_pid}/cmdline", "rb").read()
                if _cmd.endswith(b"\\x00check\\x00module3\\x00cache-aside\\x00"):
                    os.kill(_pid, signal.SIGSTOP)
                    break
                _stat = open(f"/proc/{_pid}/stat").read()
                _pid = int(_stat[_stat.rindex(")") + 2 :].split()[1])
            """,
        )
    )
    process = subprocess.Popen(
        CHECK_02,
        env=_workshop_env(tmp_path / "w", server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # stopped for good: this test must not hang too
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
            process.wait()
    # The solution's behaviour is intact; the stop was undone while its checks ran.
    assert process.returncode == 0, stdout + stderr


def test_processes_that_left_the_group_are_stopped_even_when_the_code_kills_the_keeper_too(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """Escape first, then kill the keeper and the fork server, the two subreapers below the
    workshop: the escaped processes are handed to the workshop process, which stops them
    (issue 19)."""
    pids = tmp_path / "escaped.pids"
    exercise = tmp_path / "w" / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text(
        _escape(pids, lifetime=900)
        + "import os, signal\n"
        + "_server = os.getppid()\n"
        + "_stat = open(f'/proc/{_server}/stat').read()\n"
        + "_keeper = int(_stat[_stat.rindex(')') + 2 :].split()[1])\n"
        + "os.kill(_keeper, signal.SIGKILL)\n"
        + "os.kill(_server, signal.SIGKILL)\n"
        + solution(module3)
    )
    done = subprocess.run(
        CHECK_02,
        env=_workshop_env(tmp_path / "w", server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    escaped = [int(pid) for pid in pids.read_text().split()]
    try:
        assert done.returncode == 1, done.stdout + done.stderr
        assert len(escaped) == 4  # two per attempt
        wait_until(lambda: all_gone(escaped), "a process outlived the check")
    finally:
        for pid in escaped:  # a failed run of this test leaves nothing on the machine either
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.usefixtures("servers_of_this_test")
def test_the_workshop_stops_only_what_learner_code_left_with_it(
    tmp_path: Path, module3: Module, server: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process, as `verify` runs checks: learner code escapes, then kills the keeper
    and the fork server, so its processes come to this process. They are stopped; a child this
    test started, the Valkey server and a process orphaned here after the check are not."""
    monkeypatch.setenv(forkserver.FORK_SERVER_ENV, "1")
    ours = subprocess.Popen(["sleep", "900"])
    pids = tmp_path / "escaped.pids"
    killer = (
        _escape(pids, lifetime=900)
        + "import os, signal\n"
        + "_server = os.getppid()\n"
        + "_stat = open(f'/proc/{_server}/stat').read()\n"
        + "os.kill(int(_stat[_stat.rindex(')') + 2 :].split()[1]), signal.SIGKILL)\n"
        + "os.kill(_server, signal.SIGKILL)\n"
    )
    escaped: list[int] = []
    later = None
    try:
        result = _check(tmp_path / "one", killer + solution(module3), module3, server)
        escaped = [int(pid) for pid in pids.read_text().split()]
        assert not result.passed
        assert "fork server, was killed" in (result.problem or ""), result.problem
        assert len(escaped) == 4  # two per attempt
        wait_until(lambda: all_gone(escaped), "a process outlived the check")
        assert ours.poll() is None, "a process this test started was stopped"
        assert _check(tmp_path / "two", solution(module3), module3, server).passed
        # Between checks, an orphan goes to init as before: this process is no subreaper.
        shell = subprocess.run(
            ["sh", "-c", "sleep 900 </dev/null >/dev/null 2>&1 & echo $!"],
            capture_output=True,
            text=True,
            check=True,
        )
        later = int(shell.stdout)
        parent = Path(f"/proc/{later}/stat").read_text().rsplit(")", 1)[1].split()[1]
        assert int(parent) != os.getpid()
    finally:
        ours.kill()
        ours.wait()
        for pid in [*escaped, *([later] if later else [])]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
