"""The layers hold at run time too: ``workshop --help`` and a Tab press load no checking,
server, class server or use-case code, and the layer contract names every package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import valkey_workshop

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(valkey_workshop.__file__).resolve().parent

#: Nothing of these may load for --help or a Tab press.
HEAVY = (
    "valkey_workshop.checking",
    "valkey_workshop.server",
    "valkey_workshop.commands.check",
    "valkey_workshop.commands.verify",
    "valkey_workshop.mutation",
    "valkey_workshop.interactive",
    "valkey_workshop.classroom.serve",
    "valkey_workshop.classroom.membership",
    "valkey_workshop.classroom.trainer",
    "valkey_workshop.render.views",
)

_PROBE = """
import json, sys
sys.argv = ["workshop", *sys.argv[1:]]
from valkey_workshop.cli.entry import main
try:
    main()
except SystemExit:
    pass
names = sorted(name for name in sys.modules if name.startswith("valkey_workshop"))
sys.__stderr__.write("MODULES " + json.dumps(names) + "\\n")
"""


def _loaded(*args: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """The workshop modules a fresh interpreter loaded running ``workshop ARGS``; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=120,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES ")), done.stdout


_FRAMEWORKS = """
import os, subprocess, sys
sys.argv = ["workshop"]
from valkey_workshop.cli.entry import main
try:
    main()
except SystemExit:
    pass
loaded = [n for n in sys.modules if n.split(".")[0] in ("typer", "click", "rich", "pydantic")]
sys.__stderr__.write("FRAMEWORKS " + ",".join(sorted(loaded)) + "\\n")
"""


def _typer_or_click(words: str, shell: str = "bash") -> list[str]:
    """The Typer, Click, Rich or pydantic modules a Tab press on ``words`` loaded."""
    env = {**os.environ, "_WORKSHOP_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        env |= {"COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
    else:
        env["_TYPER_COMPLETE_ARGS"] = words
    done = subprocess.run(
        [sys.executable, "-c", _FRAMEWORKS],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("FRAMEWORKS"))
    return [name for name in line.removeprefix("FRAMEWORKS ").split(",") if name]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_tab_press_imports_neither_typer_nor_click(shell: str) -> None:
    for words in ("workshop ", "workshop check module3 cache", "workshop check --backend "):
        assert _typer_or_click(words, shell) == [], (shell, words)


def _heavy(names: list[str]) -> list[str]:
    return [name for name in names if name.startswith(HEAVY)]


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("class", "--help")])
def test_help_loads_no_checking_server_or_class_code(args: tuple[str, ...]) -> None:
    names, stdout = _loaded(*args)
    assert "Usage" in stdout
    assert _heavy(names) == [], _heavy(names)


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("workshop notes module3 cache", "cache-aside"),
        ("workshop pack ./p --platform linux-a", "linux-aarch64"),
        ("workshop check --backend emb", "embedded"),
        ("workshop class serve --module mod", "module3"),
    ],
)
def test_every_kind_of_tab_press_loads_no_heavy_code(words: str, answer: str) -> None:
    names, stdout = _loaded(
        env={
            "_WORKSHOP_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
    )
    assert answer in stdout.split()
    assert _heavy(names) == [], _heavy(names)
    assert _typer_or_click(words) == []
    light = ("valkey_workshop.commands", "valkey_workshop.render", "valkey_workshop.classroom")
    assert [name for name in names if name.startswith(light)] == []


def test_a_tab_press_loads_no_checking_server_or_class_code() -> None:
    names, stdout = _loaded(
        env={
            "_WORKSHOP_COMPLETE": "complete_bash",
            "COMP_WORDS": "workshop check module3 cache",
            "COMP_CWORD": "3",
        }
    )
    assert "cache-aside" in stdout  # the completion ran, and answered
    assert _heavy(names) == [], _heavy(names)


def test_the_layers_contract_names_every_top_level_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").is_file())
        and path.name not in ("__init__.py", "__main__.py")
    }
    assert packages - named == set(), "a package outside the layers is unconstrained"


def test_the_cli_names_the_runner_and_proof_limits_as_they_are() -> None:
    from valkey_workshop.checking.proofs import MAX_JOBS  # noqa: PLC0415 - the test's subject
    from valkey_workshop.checking.runner import MEMORY_LIMIT_ENV  # noqa: PLC0415
    from valkey_workshop.cli import app  # noqa: PLC0415

    assert (app.MAX_JOBS, app.MEMORY_LIMIT_ENV) == (MAX_JOBS, MEMORY_LIMIT_ENV)
    from valkey_workshop.checking.seeds import SEED_LIMIT, SEED_VARIABLE  # noqa: PLC0415

    assert (app.SEED_VARIABLE, app.SEED_LIMIT) == (SEED_VARIABLE, SEED_LIMIT)
