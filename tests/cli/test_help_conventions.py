"""Every command's ``--help`` reads as a person would write it: one or two examples, values
named MODULE, STEP, DIR, N (never ``<str>``, ``{module}`` or ``step_argument``), and every
summary in the command lists whole at 80 columns."""

from __future__ import annotations

import re
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from valkey_workshop import naming
from valkey_workshop.cli.app import app
from valkey_workshop.cli.common import WorkshopCommand

runner = CliRunner()


def _commands() -> list[tuple[str, ...]]:
    """The path of every command (not the groups): ("check",), ("class", "serve"), ..."""
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.append(path)
            return
        for name, child in children.items():
            walk(child, (*path, name))

    walk(get_command(app), ())
    return found


COMMANDS = _commands()
GROUPS = [(), ("class",), ("new",)]


def _help(*path: str) -> str:
    done = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, prog_name="workshop")
    assert done.exit_code == 0, done.output
    return done.output


def test_every_command_is_found() -> None:
    assert {("check",), ("notes",), ("pack",), ("class", "serve"), ("new", "step")} <= set(COMMANDS)
    assert len(COMMANDS) >= 25


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_shows_examples_of_the_command_itself(path: tuple[str, ...]) -> None:
    text = _help(*path)
    examples = text.split("Examples:\n", 1)
    assert len(examples) == 2, text
    lines = [line for line in examples[1].split("\n\n")[0].splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, lines
    assert all(" ".join(("workshop", *path)) in line for line in lines), lines


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_names_values_as_a_person_reads_them(path: tuple[str, ...]) -> None:
    text = _help(*path)
    assert re.search(r"<[a-z]", text) is None, text  # <str>, <path>, <list[str]>
    assert "{" not in text, text  # {module}
    assert "_" not in text.splitlines()[0], text  # the usage line: step_argument
    assert "step_argument" not in text
    assert "VALUE" not in text, text  # every option that takes a value names it


def test_help_shows_the_fixed_sets_as_choices() -> None:
    text = _help("check")
    assert "Usage: workshop check [OPTIONS] MODULE [STEP]" in text
    assert "--backend [auto|docker|embedded|local|url]" in text
    assert "--docker-network [bridge|host]" in text
    assert "--workdir DIR" in text
    assert "--junit-xml FILE" in text
    assert "--jobs, -j N" in text
    pack = _help("pack")
    assert "Usage: workshop pack [OPTIONS] DIR" in pack
    assert "--python [3.11|3.12|3.13|3.14]" in pack
    assert "linux-x86_64, linux-" in pack and "windows-x86_64" in pack


@pytest.mark.parametrize("group", GROUPS, ids=lambda path: " ".join(("workshop", *path)))
def test_every_summary_fits_80_columns(group: tuple[str, ...]) -> None:
    text = _help(*group)
    listed = text.split("Commands:\n", 1)[1].splitlines()
    rows = [line for line in listed if line.startswith("  ") and line.strip()]
    assert len(rows) >= 2
    for row in rows:
        assert len(row) <= 80, row
        assert not row.rstrip().endswith(("...", "…")), row


def test_examples_name_the_command_that_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(naming, "_program", "redis-lab")
    command = WorkshopCommand(
        "check",
        help="Check.\n\n\b\nExamples:\n  workshop check module3\n  printf 'SET workshop:x 1' | workshop cli",
    )
    assert command.help == (
        "Check.\n\n\b\nExamples:\n  redis-lab check module3\n  printf 'SET workshop:x 1' | redis-lab cli"
    )
