"""The guided session in a real pseudo-terminal, as a learner meets it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
import valkey

from tests.conftest import OwnServers, all_gone, exit_status_of, wait_until, worker_pids
from valkey_workshop.content import load_module
from valkey_workshop.server.embedded import EmbeddedBackend

pytestmark = pytest.mark.pty


def shown(text: str) -> str:
    """A pattern for `text` as printed: words may be separated by styling escapes
    (NO_COLOR drops colours, not bold or reverse video)."""
    return r"(?:\s|\x1b\[[\d;]*m)+".join(re.escape(word) for word in text.split())


QUIT_KEY = shown("q quit")
STEPS = len(load_module("module3").steps)


def spawn(*args: str, workdir: Path, extra_env: dict[str, str] | None = None) -> pexpect.spawn:
    env = {
        **os.environ,
        **(extra_env or {}),
        "WORKSHOP_WORKDIR": str(workdir),
        "WORKSHOP_BACKEND": "embedded",
        "NO_COLOR": "1",
        "COLUMNS": "100",
        "LINES": "50",
        "TERM": "xterm",
    }
    return pexpect.spawn(
        sys.executable,
        ["-m", "valkey_workshop", *args],
        env=env,
        encoding="utf-8",
        # How long an expect waits for its text: only ends a broken test. A session on a
        # loaded 2-core machine (a server start, a check) once took over 30 s to show a key bar.
        timeout=120,
        dimensions=(50, 100),
    )


def finish(child: pexpect.spawn, *, interrupted: bool = False) -> int:
    return exit_status_of(child, interrupted=interrupted)


@pytest.mark.usefixtures("unrelated_valkey")
def test_start_shows_the_first_step_and_quits_cleanly(hermetic: Path) -> None:
    servers = OwnServers()
    started = time.monotonic()
    child = spawn("start", "module3", workdir=hermetic)
    child.expect(shown("valkey-workshop · module3"))
    child.expect("Server: embedded Valkey")
    child.expect(shown(f"Step 01/{STEPS:02d}  Find the bottleneck"))
    first_step_seconds = time.monotonic() - started
    child.expect(shown("(lesson page 1/"))  # the lesson first, a screenful at a time
    child.expect(QUIT_KEY)
    for _ in range(8):  # space pages on to the exercise line
        child.send(" ")
        if child.expect([shown("Your exercise: "), shown("(lesson page")]) == 0:
            break
    child.expect(QUIT_KEY)
    child.send("d")  # the demo runs when the learner asks
    child.expect("Live demo")
    child.expect(QUIT_KEY)
    assert len(servers.look()) == 1  # the session's own server
    child.send("q")
    child.expect("Bye.")
    assert finish(child) == 0
    assert servers.leftover() == set()
    assert (hermetic / "module3" / "01_bottleneck.py").exists()
    print(f"workshop start module3 -> first step on screen: {first_step_seconds:.2f} s")


@pytest.mark.usefixtures("unrelated_valkey")
def test_ctrl_c_during_the_demo_stops_the_server(hermetic: Path) -> None:
    servers = OwnServers()
    child = spawn("start", "module3", workdir=hermetic)
    child.expect(QUIT_KEY)
    child.send("d")
    child.expect("Live demo")  # the demo's database read takes 1.5 s: interrupt it
    assert len(servers.look()) == 1
    child.sendintr()
    child.expect("Interrupted; the server was stopped.")
    assert finish(child, interrupted=True) == 130
    assert servers.leftover() == set()


def test_check_hint_and_resume(hermetic: Path) -> None:
    module = load_module("module3")
    child = spawn("start", "module3", workdir=hermetic)
    child.expect(QUIT_KEY)
    child.send("c")
    child.expect(shown("01 bottleneck  Find the bottleneck  ✗ FAIL"))
    child.expect(QUIT_KEY)
    child.send("h")
    child.expect(shown("Hint 1/3 · 01 bottleneck"))
    child.expect(QUIT_KEY)
    shutil.copyfile(module.step(1).solution, hermetic / "module3" / "01_bottleneck.py")
    child.send("c")
    child.expect(shown("01 bottleneck  Find the bottleneck  ✓ PASS"))
    child.expect(shown("s solution"))
    child.send("q")
    assert finish(child) == 0

    again = spawn("start", "module3", workdir=hermetic)
    again.expect("Welcome back: resuming at step 02 cache-aside")
    again.expect(shown(f"Step 02/{STEPS:02d}  Cache-aside"))
    again.expect(QUIT_KEY)
    again.send("q")
    assert finish(again) == 0


@pytest.mark.usefixtures("unrelated_valkey")
def test_sigint_to_check_stops_learner_code_and_server(hermetic: Path) -> None:
    exercise = hermetic / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text("CACHE_TTL_SECONDS = 300\nwhile True:\n    pass\n")
    servers = OwnServers()
    process = subprocess.Popen(
        [sys.executable, "-m", "valkey_workshop", "check", "module3", "cache-aside"],
        env={**os.environ, "WORKSHOP_WORKDIR": str(hermetic)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Only this check's own worker counts: it is a descendant of the workshop process.
    workers: set[int] = set()

    def started() -> bool:
        workers.update(worker_pids(process.pid))
        return bool(workers)

    wait_until(started, "the checking process never started", process=process)
    assert len(servers.look()) == 1
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr
    # Remembered PIDs: a worker left behind would have been re-parented, not vanished.
    wait_until(lambda: all_gone(workers), "a worker outlived the check")
    assert servers.leftover() == set()


def test_a_demo_that_cannot_run_is_a_message_not_a_crash(hermetic: Path) -> None:
    # Foreign data on the server: the server guard refuses the eviction demo, and says why.
    with EmbeddedBackend() as info:
        valkey.Valkey.from_url(info.url).set("someone-elses:key", "keep me")
        child = spawn("start", "module3", "--step", "eviction", "--url", info.url, workdir=hermetic)
        child.expect(QUIT_KEY)
        child.send("d")
        child.expect(shown("The demo did not run. Step 04 eviction changes server-wide"))
        child.expect(QUIT_KEY)
        child.send("q")
        assert finish(child) == 0
        assert valkey.Valkey.from_url(info.url).get("someone-elses:key") == b"keep me"


def test_watch_says_once_that_the_server_stopped_restarts_it_and_goes_on(hermetic: Path) -> None:
    exercise = hermetic / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text(
        "def get_product_details(client, db, product_id):\n"
        "    client.shutdown(nosave=True)\n\n"
        "def update_product(client, db, product_id, changes):\n"
        "    return None\n"
    )
    child = spawn("watch", "module3", "cache-aside", workdir=hermetic)
    child.expect(shown("The server stopped; restarting"))
    child.expect(shown("Nothing was recorded for this check"))
    child.expect(QUIT_KEY)
    assert "Traceback" not in (child.before or "")
    shutil.copyfile(load_module("module3").step("cache-aside").solution, exercise)
    child.expect(shown("Step passed."))  # the restarted server checks the next save
    child.expect(QUIT_KEY)
    child.send("q")
    assert finish(child) == 0


def test_start_checks_on_save_opens_the_editor_and_hints_what_failed(
    hermetic: Path, tmp_path: Path
) -> None:
    step = load_module("module3").step("bottleneck")
    exercise = hermetic / "module3" / "01_bottleneck.py"
    editor = tmp_path / "editor.py"  # an editor that writes the solution and quits
    editor.write_text(f"import shutil, sys\nshutil.copyfile({str(step.solution)!r}, sys.argv[1])\n")
    child = spawn(
        "start",
        "module3",
        workdir=hermetic,
        extra_env={"VISUAL": "", "EDITOR": f"{sys.executable} {editor}"},
    )
    child.expect(shown("w check on save: on"))
    child.expect(QUIT_KEY)
    # A save checks the step (no key); the failure names hint 3, and h shows hint 3.
    exercise.write_text((step.folder / "wrong" / "quiz_replaces.py").read_text())
    child.expect(shown("01 bottleneck  Find the bottleneck  ✗ FAIL"))
    child.expect(QUIT_KEY)
    child.send("h")
    child.expect(shown("Hint 3/3 · 01 bottleneck"))
    child.expect(QUIT_KEY)
    # e: the editor writes the solution; back in the session, the save is checked.
    child.send("e")
    child.expect(shown("01 bottleneck  Find the bottleneck  ✓ PASS"))
    child.expect(shown("Step passed. Press n for the next step, or s to compare"))
    child.expect(QUIT_KEY)
    # w: checking on save off; c still checks.
    child.send("w")
    child.expect(shown("Checking on save is off: press c to check."))
    child.expect(shown("w check on save: off"))
    child.expect(QUIT_KEY)
    exercise.write_text(step.starter.read_text())
    child.send("c")
    child.expect(shown("01 bottleneck  Find the bottleneck  ✗ FAIL"))
    assert (child.before or "").count("Checking 01") == 1  # the key's check only
    child.expect(QUIT_KEY)
    child.send("q")
    assert finish(child) == 0


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--no-check-on-save",), {}), ((), {"WORKSHOP_CHECK_ON_SAVE": "0"})],
    ids=["option", "environment"],
)
def test_start_with_check_on_save_off_checks_only_on_c(
    hermetic: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    step = load_module("module3").step("bottleneck")
    exercise = hermetic / "module3" / "01_bottleneck.py"
    child = spawn("start", "module3", *args, workdir=hermetic, extra_env=env)
    child.expect(shown("w check on save: off"))
    child.expect(QUIT_KEY)
    for _ in range(8):  # space pages on to the exercise line, which says how to check
        child.send(" ")
        if child.expect([shown("then press c to check it"), shown("(lesson page")]) == 0:
            break
    child.expect(QUIT_KEY)
    exercise.write_text((step.folder / "wrong" / "quiz_replaces.py").read_text())
    child.send("c")
    child.expect(shown("01 bottleneck  Find the bottleneck  ✗ FAIL"))
    assert (child.before or "").count("Checking 01") == 1  # the key's check, not the save's
    child.expect(QUIT_KEY)
    child.send("q")
    assert finish(child) == 0


def test_the_edit_key_without_an_editor_says_how_to_set_one(hermetic: Path) -> None:
    child = spawn("start", "module3", workdir=hermetic, extra_env={"VISUAL": "", "EDITOR": ""})
    child.expect(QUIT_KEY)
    child.send("e")
    child.expect(shown("Set $VISUAL or $EDITOR to open the exercise from here"))
    child.expect(QUIT_KEY)
    child.send("q")
    assert finish(child) == 0


def test_p_opens_the_valkey_prompt_on_the_session_server_and_comes_back(hermetic: Path) -> None:
    child = spawn("start", "module3", workdir=hermetic)
    child.expect(shown("p valkey prompt"))
    child.expect(QUIT_KEY)
    child.send("p")
    child.expect(shown("Type Valkey commands; each reply shows its latency."))
    child.expect(r"127\.0\.0\.1:\d+> ")
    child.sendline("SET workshop:session2 hello")
    latency = r"(?:\x1b\[[\d;]*m)*  \(\d[\d.]* (?:µs|ms)\)"
    child.expect(r"OK" + latency)  # the reply, then its latency
    child.sendline("GET workshop:session2")
    child.expect(r"\"hello\"" + latency)
    # The next prompt first: readline takes the terminal out of canonical mode before it draws
    # it, and a Ctrl-D typed while the line discipline is still canonical is lost in that
    # switch (a person reads the prompt before pressing it).
    child.expect(r"127\.0\.0\.1:\d+> ")
    child.sendeof()  # Ctrl-D: back to the step, its keys working again
    child.expect(QUIT_KEY)
    child.send("h")
    child.expect(shown("Hint 1/3 · 01 bottleneck"))
    child.expect(QUIT_KEY)
    child.send("q")
    assert finish(child) == 0
    assert (hermetic / ".cli-history").exists()
