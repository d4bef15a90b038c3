"""A self-paced learner, played in a real pseudo-terminal at 80 columns with NO_COLOR."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.conftest import OwnServers
from tests.pty.test_guided_session import QUIT_KEY, finish, shown, spawn
from valkey_workshop.content import load_module

pytestmark = pytest.mark.pty
MODULE = load_module("module3")


def _narrow(child: object) -> None:
    child.setwinsize(40, 80)  # type: ignore[attr-defined] # pexpect.spawn


def _save(path: Path, source: Path) -> None:
    # Written in place, as an editor does: the watcher sees a modification of this file.
    path.write_text(source.read_text())


def _save_until_seen(watcher: pexpect.spawn, path: Path, source: Path, verdict: str) -> None:
    """Save, and save again until the watcher shows ``verdict``. Its key bar is drawn just
    before it starts watching the file, so a save in between is missed (on a loaded machine
    that was a fixed sleep's failure); a learner's next save is not."""
    for _ in range(24):
        _save(path, source)
        try:
            watcher.expect(shown(verdict), timeout=5)
        except pexpect.TIMEOUT:
            continue
        return
    raise AssertionError(f"the watcher never showed {verdict!r}")


@pytest.mark.usefixtures("unrelated_valkey")
def test_learner_skips_fails_passes_on_save_takes_a_hint_and_resumes(hermetic: Path) -> None:
    servers = OwnServers()
    exercise = hermetic / "module3" / "02_cache_aside.py"

    # 1. Start: step 01 comes up; skip it; step 02 comes up; check the untouched starter.
    child = spawn("start", "module3", workdir=hermetic)
    _narrow(child)
    child.expect(shown("Step 01/09"))
    child.expect(QUIT_KEY)
    assert len(servers.look()) == 1
    child.send("k")
    child.expect(shown("Step 01 bottleneck marked skipped (not passed)."))
    child.expect(shown("Step 02/09  Cache-aside"))
    child.expect(QUIT_KEY, timeout=60)
    child.send("c")
    child.expect(shown("02 cache-aside  Cache-aside  ✗ FAIL"))
    child.expect(shown("get_product_details() is not written yet"))
    child.expect(shown("lesson: “The read path”"))
    child.expect(QUIT_KEY)
    child.send("q")
    child.expect("Bye.")
    child.expect(shown("Where you are"))
    assert finish(child) == 0

    # 2. Watch: resumes at 02, fails, then passes when a correct answer is saved.
    watcher = spawn("watch", "module3", workdir=hermetic)
    _narrow(watcher)
    watcher.expect(shown("Welcome back: resuming at step 02 cache-aside"))
    watcher.expect(shown("✗ FAIL"))
    watcher.expect(QUIT_KEY)
    assert len(servers.look()) == 1
    _save_until_seen(
        watcher,
        exercise,
        MODULE.step("cache-aside").solution,
        "02 cache-aside  Cache-aside  ✓ PASS",
    )
    watcher.expect(shown("Step passed. Press n for the next step"))
    watcher.expect(QUIT_KEY)
    time.sleep(1.0)
    assert "Step 03/09" not in watcher.before  # never moves on by itself
    watcher.send("h")
    watcher.expect(shown("Hint 1/3 · 02 cache-aside"))
    watcher.expect(QUIT_KEY)
    watcher.send("q")
    assert finish(watcher) == 0

    # 3. Start again: resumes at the first step neither passed nor skipped.
    again = spawn("start", "module3", workdir=hermetic)
    _narrow(again)
    again.expect(shown("Welcome back: resuming at step 03 ttl-persist"))
    again.expect(QUIT_KEY)
    again.send("q")
    assert finish(again) == 0

    # 4. What `list` shows, and a reset that keeps the learner's file.
    env = {**os.environ, "WORKSHOP_WORKDIR": str(hermetic), "COLUMNS": "80", "NO_COLOR": "1"}
    listing = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", "list", "module3"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "» skipped" in listing and "✓ passed" in listing
    assert "Next: 03 ttl-persist" in listing
    reset = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", "reset", "module3", "cache-aside"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (backup,) = (hermetic / ".backups" / "module3").glob("02_cache_aside.*.py")
    assert backup.read_text() == MODULE.step("cache-aside").solution.read_text()
    assert backup.name in reset.replace("\n", "")
    after = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", "list", "module3"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "✓ passed" not in after and "passed before" in after  # the starter is back
    assert servers.leftover() == set()


def test_watch_with_polling_sees_a_save(hermetic: Path) -> None:
    exercise = hermetic / "module3" / "01_bottleneck.py"
    watcher = spawn("watch", "module3", "bottleneck", "--poll", workdir=hermetic)
    watcher.expect(shown("01 bottleneck  Find the bottleneck  ✗ FAIL"))
    watcher.expect(QUIT_KEY)
    _save_until_seen(
        watcher,
        exercise,
        MODULE.step("bottleneck").solution,
        "01 bottleneck  Find the bottleneck  ✓ PASS",
    )
    watcher.expect(QUIT_KEY)
    watcher.send("s")
    watcher.expect(shown("Reference solution · 01 bottleneck"))
    watcher.expect(QUIT_KEY)
    watcher.send("q")
    watcher.expect(shown("Where you are"))
    assert finish(watcher) == 0
    shutil.rmtree(hermetic)
