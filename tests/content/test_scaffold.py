"""``workshop new``: what it writes verifies green at once, and it never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module
from valkey_workshop.content.roots import bundled_root, survey
from valkey_workshop.session.workdir import Workdir

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


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if "__pycache__" not in path.parts)


def test_a_new_step_never_writes_into_the_bundled_course() -> None:
    labs = bundled_root() / "module3"
    before = [(path, path.stat().st_mtime_ns) for path in _files(labs)]
    refused = runner.invoke(app, ["new", "step", "module3", "my-step"])
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1
    assert "module3 is in " in refused.stderr
    assert "(bundled): new step writes only to modules on WORKSHOP_COURSE_PATH" in refused.stderr
    assert [(path, path.stat().st_mtime_ns) for path in _files(labs)] == before


def test_a_new_step_never_writes_into_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "lib" / "python3.12" / "site-packages" / "some_course"
    runner.invoke(app, ["new", "module", "module5", "--dir", str(site)])
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(site))
    before = _files(site)
    refused = runner.invoke(app, ["new", "step", "module5", "second"])
    assert refused.exit_code == 2
    assert "new step writes only to modules on" in refused.stderr
    assert _files(site) == before
    # --dir names the folder explicitly: then it is written
    added = runner.invoke(app, ["new", "step", "module5", "second", "--dir", str(site)])
    assert added.exit_code == 0, added.output
    assert (site / "module5" / "02_second" / "step.toml").is_file()


def test_a_new_step_refuses_a_module_of_a_course_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKSHOP_COURSE_PATH", raising=False)
    places = [p for p in survey().places if p.root.origin.startswith("package ")]
    if not places:
        pytest.skip("no course package installed (pip install -e examples/course-ratelimit)")
    place = places[0]
    before = _files(place.folder)
    refused = runner.invoke(app, ["new", "step", place.id, "my-step"])
    assert refused.exit_code == 2
    assert f"({place.root.origin}): new step writes only" in refused.stderr
    assert _files(place.folder) == before


def test_a_new_step_lists_the_notes_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.invoke(app, ["new", "module", "module5", "--dir", str(tmp_path)])
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(tmp_path))
    added = runner.invoke(app, ["new", "step", "module5", "second"])
    assert added.exit_code == 0, added.output
    listed = [line.strip() for line in added.stdout.splitlines()]
    assert "module.toml" in listed
    assert "trainer-notes.md" in listed


def _broken_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str) -> Path:
    course = tmp_path / "course"
    runner.invoke(app, ["new", "module", "module5", "--dir", str(course)])
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(course))
    checks = course / "module5" / "01_first_step" / "checks.py"
    text = checks.read_text()
    checks.write_text(f"{line}\n{text}")
    return checks


def test_checks_that_do_not_import_are_the_contents_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hermetic: Path
) -> None:
    checks = _broken_checks(tmp_path, monkeypatch, "import no_such_module_of_checks")
    monkeypatch.setenv("COLUMNS", "400")  # the path on one line
    result = runner.invoke(app, ["check", "module5", "1", "--backend", "embedded"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "FAIL" not in text, text
    assert f"{checks} line 1: ModuleNotFoundError: No module named" in text, text
    assert "the course content is broken, not your code" in text
    entry = Workdir(hermetic).progress.load().progress.peek("module5", "first-step")
    assert entry.attempts == 0


def test_checks_with_a_syntax_error_make_a_broken_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hermetic: Path
) -> None:
    checks = _broken_checks(tmp_path, monkeypatch, "def broken(:")
    monkeypatch.setenv("COLUMNS", "400")
    listed = runner.invoke(app, ["list", "module5"])
    assert listed.exit_code == 0, listed.output
    assert f"{checks} line 1: SyntaxError: invalid syntax" in listed.stdout
    result = runner.invoke(app, ["check", "module5", "1", "--backend", "embedded"])
    assert result.exit_code == 2, result.output
    assert "SyntaxError('" not in result.output
    assert f"{checks} line 1: SyntaxError" in " ".join(result.output.split())
    entry = Workdir(hermetic).progress.load().progress.peek("module5", "first-step")
    assert entry.attempts == 0
