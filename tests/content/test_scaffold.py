"""``workshop new``: what it writes verifies green at once, and it never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module

runner = CliRunner()


def test_a_new_module_and_a_new_step_verify_green(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "course"
    made = runner.invoke(
        app, ["new", "module", "module5", "--title", "Counters", "--dir", str(course)]
    )
    assert made.exit_code == 0, made.output
    assert (course / "module5" / "trainer-notes.md").is_file()
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(course))
    added = runner.invoke(app, ["new", "step", "module5", "sliding-window"])
    assert added.exit_code == 0, added.output
    module = load_module("module5")
    assert module.title == "Counters"
    assert [step.label for step in module.steps] == ["01 first-step", "02 sliding-window"]
    assert not module.broken_steps
    assert module.step(1).wrong_answers[0].fails == "one-round-trip"
    verified = runner.invoke(app, ["verify", "module5"])
    assert verified.exit_code == 0, verified.output
    # starter, solution, one wrong, one accepted answer and the demo, for each step
    assert "10 of 10 proofs hold" in verified.stdout
    notes = runner.invoke(app, ["notes", "module5", "sliding-window"])
    assert notes.exit_code == 0, notes.output


def test_a_new_module_starts_in_the_current_folder(tmp_path: Path) -> None:
    made = runner.invoke(app, ["new", "module", "module6"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "module6" / "01_first_step" / "checks.py").is_file()
    again = runner.invoke(app, ["new", "module", "module6"])
    assert again.exit_code == 2
    assert (
        again.stderr
        == f"Error: {tmp_path / 'module6'} exists already; pick another id or --dir (nothing written).\n"
    )


@pytest.mark.parametrize("bad", ["Module4", "4module", "mod/4"])
def test_a_bad_module_id_is_one_line(bad: str) -> None:
    result = runner.invoke(app, ["new", "module", bad])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Module id {bad!r} should be lowercase")
    assert result.stderr.count("\n") == 1


def test_a_new_step_needs_a_free_slug_and_a_known_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.invoke(app, ["new", "module", "module5", "--dir", str(tmp_path / "c")])
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(tmp_path / "c"))
    taken = runner.invoke(app, ["new", "step", "module5", "first-step"])
    assert taken.exit_code == 2
    assert "has a step 'first-step' already (nothing written)" in taken.stderr
    malformed = runner.invoke(app, ["new", "step", "module5", "Fixed_Window"])
    assert malformed.exit_code == 2
    unknown = runner.invoke(app, ["new", "step", "module9", "x"])
    assert unknown.exit_code == 2
    assert "Unknown module 'module9'" in unknown.stderr
    before = (tmp_path / "c" / "module5" / "module.toml").read_text()
    assert before.count("[[steps]]") == 1
