"""The example course package (examples/course-ratelimit): module4 proves itself from an
outside folder, with every answer and mutant accounted for."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module
from valkey_workshop.content.notes import load_notes

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course-ratelimit"
ROOT = COURSE / "workshop_course_ratelimit"
runner = CliRunner()


@pytest.fixture(autouse=True)
def course_on_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(ROOT))


def test_the_package_registers_its_folder_and_a_command_of_its_own() -> None:
    project = tomllib.loads((COURSE / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["valkey_workshop.courses"] == {
        "ratelimit": "workshop_course_ratelimit"
    }
    assert project["project"]["scripts"]["ratelimit-lab"] == "valkey_workshop.cli.entry:main"
    assert "**/*.md" in project["tool"]["setuptools"]["package-data"]["workshop_course_ratelimit"]


def test_module4_has_three_steps_with_answers_notes_and_its_own_keys() -> None:
    module = load_module("module4")
    assert [step.slug for step in module.steps] == [
        "fixed-window",
        "sliding-window",
        "token-bucket",
    ]
    notes = load_notes("module4")
    for step in module.steps:
        assert step.problem is None
        assert len(step.wrong_answers) >= 6, step.label
        assert len(step.accepted_answers) >= 2, step.label
        assert notes.for_step(step.number), step.label
        # Every key the step's code names is under the course's prefix.
        for path in step.folder.rglob("*.py"):
            for key in re.findall(r'"(workshop:[^"]*)"', path.read_text()):
                assert key.startswith(("workshop:ratelimit:", "workshop:demo:ratelimit:")), path


def test_verify_module4_holds() -> None:
    result = runner.invoke(app, ["verify", "module4"])
    assert result.exit_code == 0, result.output
    assert re.search(r"(\d+) of \1 proofs hold", result.stdout)


def test_no_mutant_of_module4_survives() -> None:
    result = runner.invoke(app, ["verify", "module4", "--mutants", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["survived"] == 0
    assert report["killed"] > 0
    assert all(step["error"] is None for step in report["steps"])
