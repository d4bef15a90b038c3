"""Two or more `workshop` processes on one workdir: no progress update is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import wait_until
from valkey_workshop.session.workdir import Workdir

#: One learner process: waits for the start signal, then records its share of updates
#: through the same operations the commands use.
WORKER = """
import sys, time
from pathlib import Path
from valkey_workshop.commands.hint import reveal_hint
from valkey_workshop.commands.skip import skip_step
from valkey_workshop.commands.time_spent import add_time_spent
from valkey_workshop.content import load_module
from valkey_workshop.session.workdir import Workdir

workdir, go, role, rounds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
module = load_module("module3")
wd = Workdir(workdir)
(go.parent / f"ready-{role}").touch()
while not go.exists():
    time.sleep(0.001)
for _ in range(rounds):
    add_time_spent(module, module.step("cache-aside"), wd, 1.0)
if role == "hints":
    for _ in range(3):
        reveal_hint(module, module.step("eviction"), wd)
if role == "skip":
    skip_step(module, module.step("bottleneck"), wd)
if role == "attempts":  # what each check records, one transaction per result
    for number in range(rounds):
        with wd.progress.update() as progress:
            progress.record_check("module3", "tracking", passed=number == rounds - 1)
"""

PROCESSES = ("hints", "skip", "attempts", "time")
ROUNDS = 40


def test_concurrent_processes_lose_no_update(tmp_path: Path) -> None:
    workdir, go = tmp_path / "labs", tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(workdir), str(go), role, str(ROUNDS)],
            stderr=subprocess.PIPE,
        )
        for role in PROCESSES
    ]
    # Every process has imported and waits: then all start at once.
    wait_until(
        lambda: all((tmp_path / f"ready-{role}").exists() for role in PROCESSES),
        "the processes never got ready",
    )
    go.touch()
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    loaded = Workdir(workdir).progress.load()
    assert loaded.warning is None
    progress = loaded.progress
    assert progress.peek("module3", "cache-aside").seconds_spent == ROUNDS * len(PROCESSES)
    assert progress.peek("module3", "eviction").hints_revealed == 3
    assert progress.peek("module3", "bottleneck").status == "skipped"
    tracking = progress.peek("module3", "tracking")
    assert (tracking.attempts, tracking.status) == (ROUNDS, "passed")
    assert [path.name for path in workdir.glob(".progress-*")] == []  # no temp files left
