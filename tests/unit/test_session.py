"""Workdir and progress: nothing a learner wrote is lost, a corrupt file never crashes."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from valkey_workshop.commands.listing import module_status
from valkey_workshop.commands.reset import ResetReport, reset_steps
from valkey_workshop.commands.time_spent import add_time_spent
from valkey_workshop.content import Module
from valkey_workshop.errors import UsageError
from valkey_workshop.render import views
from valkey_workshop.render.console import render_text
from valkey_workshop.session.progress import (
    PROGRESS_FILE,
    NotAFileError,
    Progress,
    ProgressStore,
)
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


def test_reset_records_the_step_as_not_passed_now_and_keeps_its_history(
    tmp_path: Path, module3: Module
) -> None:
    workdir = Workdir(tmp_path / "w")
    step = module3.step("cache-aside")
    workdir.prepare(module3)
    workdir.exercise_path(step).write_text(step.solution.read_text())
    with workdir.progress.update() as progress:
        progress.record_check(module3.id, step.slug, passed=True)
        progress.step(module3.id, step.slug).hints_revealed = 2
    assert reset_steps(module3, (step,), workdir).exit_code == 0
    entry = module_status(module3, workdir).steps[1].progress
    assert entry.status == "not-started"  # `list` said "passed" for a starter file
    assert entry.ever_passed and entry.attempts == 1 and entry.hints_revealed == 2
    assert module_status(module3, workdir).next_step == module3.step(1)
    listing = render_text(views.status_view(module_status(module3, workdir)), width=80)
    assert "passed before" in listing


def test_reset_returns_what_it_restored_and_where_each_learner_file_went(
    tmp_path: Path, module3: Module
) -> None:
    workdir = Workdir(tmp_path / "w")
    changed, untouched = module3.step("cache-aside"), module3.step("bottleneck")
    workdir.prepare(module3)
    workdir.exercise_path(changed).write_text("# mine\n")
    report = reset_steps(module3, (untouched, changed), workdir)
    assert isinstance(report, ResetReport)
    assert (report.module, report.exit_code, report.messages) == (module3, 0, ())
    first, second = report.outcomes
    assert (first.exercise, first.backup) == (workdir.exercise_path(untouched), None)
    assert second.exercise == workdir.exercise_path(changed)
    assert second.backup is not None and second.backup.read_text() == "# mine\n"
    shown = "".join(render_text(views.reset_view(report.outcomes), width=100).split())
    assert f"yourversioniskeptat{second.backup}" in shown  # long paths wrap


def test_time_spent_returns_what_it_added_and_the_steps_total(
    tmp_path: Path, module3: Module
) -> None:
    workdir = Workdir(tmp_path / "w")
    step = module3.step("cache-aside")
    first = add_time_spent(module3, step, workdir, 1.5)
    assert (first.step, first.added_seconds, first.progress.seconds_spent) == (step, 1.5, 1.5)
    assert (first.exit_code, first.messages) == (0, ())
    set_back = add_time_spent(module3, step, workdir, -3.0)  # a clock set back adds nothing
    assert (set_back.added_seconds, set_back.progress.seconds_spent) == (0.0, 1.5)
    assert module_status(module3, workdir).steps[1].progress.seconds_spent == 1.5


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


# -- nothing outside the workdir is written or shown -----------------------------------------
def test_a_module_folder_linking_outside_is_refused(tmp_path: Path, module3: Module) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    workdir = Workdir(tmp_path / "w")
    workdir.root.mkdir()
    (workdir.root / "module3").symlink_to(outside)
    with pytest.raises(UsageError, match="leads outside the workdir"):
        workdir.prepare(module3)
    assert list(outside.iterdir()) == []


def test_a_dangling_link_where_an_exercise_goes_is_never_followed(
    tmp_path: Path, module3: Module
) -> None:
    workdir = Workdir(tmp_path / "w")
    exercise = workdir.exercise_path(module3.step("bottleneck"))
    exercise.parent.mkdir(parents=True)
    exercise.symlink_to(tmp_path / "planted.py")
    with pytest.raises(UsageError, match="leads outside the workdir"):
        workdir.prepare(module3)
    assert not (tmp_path / "planted.py").exists()


def test_reset_refuses_an_exercise_or_backups_linking_outside(
    tmp_path: Path, module3: Module
) -> None:
    step = module3.step("cache-aside")
    workdir = Workdir(tmp_path / "w")
    workdir.prepare(module3)
    exercise = workdir.exercise_path(step)
    # 1. The exercise is a link to someone else's file: that file is never overwritten.
    theirs = tmp_path / "theirs.py"
    theirs.write_text("# not the learner's\n")
    exercise.unlink()
    exercise.symlink_to(theirs)
    with pytest.raises(UsageError, match="leads outside the workdir"):
        workdir.reset(step)
    assert theirs.read_text() == "# not the learner's\n"
    # 2. .backups is a link outside: no backup is written there, and the file is not reset.
    exercise.unlink()
    exercise.write_text("# my work\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workdir.root / ".backups").symlink_to(elsewhere)
    with pytest.raises(UsageError, match="leads outside the workdir"):
        workdir.reset(step)
    assert list(elsewhere.rglob("*")) == []
    assert exercise.read_text() == "# my work\n"


# -- progress: validated on load, never a FIFO, changes are transactions -----------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"format_version": 1, "modules": {"module3": {"eviction": {"seconds_spent": Infinity}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"seconds_spent": NaN}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"attempts": "3"}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"attempts": -1}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"hints_revealed": true}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"status": "won"}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"passed_at": 5}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": []}}}',
        '{"format_version": 1, "modules": {"module3": []}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"slowest_call": '
        '{"call": "GET a", "latency_us": 1e999}}}}}',
        '{"format_version": 1, "modules": {"module3": {"eviction": {"fastest_call": 7}}}}',
        b'{"format_version": 1, "modules": {"\xff": {}}}'.decode("latin-1"),
    ],
)
def test_progress_with_values_it_never_writes_is_moved_aside(
    text: str, tmp_path: Path, module3: Module
) -> None:
    (tmp_path / PROGRESS_FILE).write_bytes(text.encode("latin-1"))
    workdir = Workdir(tmp_path)
    status = module_status(module3, workdir)  # what `list` shows: no crash
    assert status.warning is not None and "moved to" in status.warning
    assert all(entry.progress.status == "not-started" for entry in status.steps)
    assert len(list(tmp_path.glob(f"{PROGRESS_FILE}.corrupt-*"))) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_progress_file_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / PROGRESS_FILE)
    # Opening a FIFO for reading would wait for a writer for ever (the test's time-out).
    with pytest.raises(NotAFileError, match="is a FIFO"):
        ProgressStore(tmp_path).load()
    with pytest.raises(NotAFileError), ProgressStore(tmp_path).update():
        pass
    assert stat.S_ISFIFO((tmp_path / PROGRESS_FILE).lstat().st_mode)  # left alone


def test_an_update_is_saved_whole_or_not_at_all(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    with store.update() as progress:
        progress.record_check("module3", "cache-aside", passed=False)
    with pytest.raises(RuntimeError), store.update() as progress:
        progress.record_check("module3", "cache-aside", passed=True)
        raise RuntimeError("interrupted half-way")
    entry = store.load().progress.peek("module3", "cache-aside")
    assert (entry.status, entry.attempts) == ("failed", 1)
