"""Tab completion as a shell asks for it (a fresh process, bash's variables): module ids, step
slugs for every command that takes one, and the values of every option with a fixed set. The
fixed sets are copies (a Tab press imports no server or packaging code): each is held equal to
its owner's here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli import classroom as class_cli
from valkey_workshop.cli import completion
from valkey_workshop.cli.app import app

STEPS_OF_MODULE3 = {"bottleneck", "cache-aside", "01", "02"}


def _tab(words: str) -> list[str]:
    """What ``workshop`` offers for ``words`` (the last word is the one being completed)."""
    parts = words.split(" ")
    done = subprocess.run(
        [sys.executable, "-m", "valkey_workshop"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "_WORKSHOP_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
        },
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.split()


@pytest.mark.parametrize(
    "command",
    ["check", "watch", "start", "hint", "solution", "reset", "skip", "demo", "notes", "verify"],
)
def test_step_slugs_complete_for_every_command_that_takes_one(command: str) -> None:
    assert set(_tab(f"workshop {command} module3 ")) >= STEPS_OF_MODULE3


def test_step_slugs_complete_for_the_step_option() -> None:
    assert _tab("workshop start module3 --step cache") == ["cache-aside"]


@pytest.mark.parametrize(
    "words",
    [
        "workshop check m",
        "workshop list m",
        "workshop verify m",
        "workshop notes m",
        "workshop new step m",
        "workshop class serve --module m",
    ],
)
def test_module_ids_complete(words: str) -> None:
    assert "module3" in _tab(words)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("workshop check --backend ", list(completion.BACKENDS)),
        ("workshop cli --backend e", ["embedded"]),
        ("workshop check module3 --docker-network ", ["bridge", "host"]),
        ("workshop class serve --backend ", list(completion.CLASS_BACKENDS)),
        ("workshop pack ./p --platform ", list(completion.PLATFORM_NAMES)),
        ("workshop pack ./p --platform linux", ["linux-x86_64", "linux-aarch64"]),
        ("workshop pack ./p --python ", list(completion.PYTHONS)),
        ("workshop pack ./p --python 3.1", list(completion.PYTHONS)),
    ],
)
def test_options_with_a_fixed_set_complete_their_values(words: str, expected: list[str]) -> None:
    assert _tab(words) == expected


def test_the_fixed_sets_are_their_owners() -> None:
    from valkey_workshop.classroom import board, config  # noqa: PLC0415 - the subjects
    from valkey_workshop.commands import pack  # noqa: PLC0415
    from valkey_workshop.server import docker, resolve  # noqa: PLC0415

    assert completion.BACKENDS == resolve.BACKENDS
    assert set(completion.CLASS_BACKENDS) == set(resolve.BACKENDS) - {"auto"}
    assert completion.NETWORKS == docker.NETWORKS
    assert completion.PLATFORM_NAMES == tuple(pack.PLATFORMS) == pack.DEFAULT_PLATFORMS
    assert completion.PYTHONS == pack.DEFAULT_PYTHONS
    assert (class_cli.ADMIN_URL_ENV, class_cli.ADMIN_PASSWORD_ENV, class_cli.DEFAULT_LISTEN) == (
        config.ADMIN_URL_ENV,
        config.ADMIN_PASSWORD_ENV,
        config.DEFAULT_LISTEN,
    )
    assert (class_cli.DEFAULT_STUCK_MINUTES, class_cli.DEFAULT_IDLE_MINUTES) == (
        board.DEFAULT_STUCK_MINUTES,
        board.DEFAULT_IDLE_MINUTES,
    )


def test_a_command_converts_its_values_after_a_tab_press_in_the_same_process() -> None:
    runner = CliRunner()
    tab = runner.invoke(
        app,
        [],
        env={
            "_WORKSHOP_COMPLETE": "complete_bash",
            "COMP_WORDS": "workshop check module3 --time-limit 5 --jobs ",
            "COMP_CWORD": "5",
        },
        prog_name="workshop",
    )
    assert tab.exit_code == 0, tab.output
    done = runner.invoke(app, ["check", "module3", "--time-limit", "soon"], prog_name="workshop")
    assert done.exit_code == 2
    assert "Invalid value for '--time-limit'" in done.output
