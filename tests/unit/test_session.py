"""Workdir and progress: nothing a learner wrote is lost, a corrupt file never crashes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from valkey_workshop.content import Module
from valkey_workshop.session.progress import PROGRESS_FILE, Progress, ProgressStore
from valkey_workshop.session.workdir import Workdir, resolve_workdir


def test_workdir_follows_the_environment(hermetic: Path) -> None:
    assert resolve_workdir(None) == hermetic
    assert resolve_workdir(Path("elsewhere")) == Path("elsewhere").resolve()


def test_prepare_creates_missing_files_and_never_overwrites(
    tmp_path: Path, module3: Module
) -> None:
    workdir = Workdir(tmp_path / "w")
    created = workdir.prepare(module3)
    assert [p.name for p in created][:2] == ["01_bottleneck.py", "02_cache_aside.py"]
    mine = workdir.exercise_path(module3.step("cache-aside"))
    mine.write_text("# my work\n")
    assert workdir.prepare(module3) == []
    assert mine.read_text() == "# my work\n"


def test_reset_keeps_a_timestamped_backup(tmp_path: Path, module3: Module) -> None:
    workdir = Workdir(tmp_path / "w")
    step = module3.step("cache-aside")
    workdir.prepare(module3)
    mine = workdir.exercise_path(step)
    mine.write_text("# attempt 1\n")
    when = datetime(2026, 11, 25, 20, 15, 0, tzinfo=UTC)
    first = workdir.reset(step, now=when)
    mine.write_text("# attempt 2\n")
    second = workdir.reset(step, now=when)  # same second: both backups survive
    assert first.backup is not None and second.backup is not None
    assert first.backup.name == "02_cache_aside.20261125-201500.py"
    assert first.backup.read_text() == "# attempt 1\n"
    assert second.backup.read_text() == "# attempt 2\n"
    assert mine.read_bytes() == step.starter.read_bytes()
    assert workdir.reset(step).backup is None  # the starter itself needs no backup


def test_progress_round_trips_and_the_status_is_the_latest_verdict(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    progress = Progress()
    progress.record_check("module3", "cache-aside", passed=True)
    progress.record_check("module3", "cache-aside", passed=False)
    store.save(progress)
    loaded = store.load()
    assert loaded.warning is None
    entry = loaded.progress.peek("module3", "cache-aside")
    # Failed now, passed before: list shows both, and start resumes here.
    assert (entry.status, entry.attempts, entry.ever_passed) == ("failed", 2, True)
    data = json.loads((tmp_path / PROGRESS_FILE).read_text())
    assert data["format_version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == [PROGRESS_FILE]  # no temp files left


def test_corrupt_progress_is_moved_aside_and_reported(tmp_path: Path) -> None:
    (tmp_path / PROGRESS_FILE).write_text("{ not json")
    loaded = ProgressStore(tmp_path).load()
    assert loaded.progress.modules == {}
    assert loaded.warning is not None and "moved to" in loaded.warning
    (aside,) = tmp_path.glob(f"{PROGRESS_FILE}.corrupt-*")
    assert aside.read_text() == "{ not json"


def test_skip_time_and_call_extremes_are_kept(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    progress = Progress()
    progress.skip("module3", "bottleneck")
    progress.add_time("module3", "bottleneck", 12.5)
    entry = progress.record_check("module3", "cache-aside", passed=True)
    entry.remember_calls([("GET a", 50.0), ("SET a 1", 120.0), ("GET b", 30.0)])
    progress.skip("module3", "cache-aside")  # a passed step stays passed
    store.save(progress)
    loaded = store.load().progress
    skipped = loaded.peek("module3", "bottleneck")
    assert (skipped.status, skipped.seconds_spent) == ("skipped", 12.5)
    passed = loaded.peek("module3", "cache-aside")
    assert passed.status == "passed"
    assert passed.slowest_call is not None and passed.slowest_call.call == "SET a 1"
    assert passed.fastest_call is not None and passed.fastest_call.latency_us == 30.0
