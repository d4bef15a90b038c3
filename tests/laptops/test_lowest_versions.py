"""The dependency bounds in pyproject.toml are ones that work: with the lowest version of every
direct dependency they admit, ``--help`` of every command runs (typer>=0.12 once admitted
0.12.0, which crashed at start, and 0.13-0.15.3, which crashed on --help with click 8.2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_packaging import wheel  # noqa: F401 - the built-wheel fixture
from valkey_workshop.commands.pack import pip_index_arguments

ROOT = Path(__file__).resolve().parents[2]

#: Runs in the lowest-versions venv: every command and group, ``--help``, in one process.
EVERY_HELP = """
import click, typer
from click.testing import CliRunner
from valkey_workshop.cli.app import app

def walk(command, path):
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, [*path, name])

group = typer.main.get_command(app)
runner = CliRunner()
count = 0
for path in walk(group, []):
    result = runner.invoke(group, [*path, "--help"], prog_name="workshop")
    assert result.exit_code == 0 and result.exception is None, (path, result.output, result.exception)
    assert "Usage: workshop" in result.output, (path, result.output)
    count += 1
print(count)
"""


@pytest.mark.lowest
def test_every_command_s_help_runs_with_the_lowest_direct_versions(
    wheel: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is a test dependency (pip install -e '.[test]')"
    # uv reads no pip.conf: it looks where pip is configured to look (the local mirror too).
    indexes = pip_index_arguments()
    env = {**os.environ, "UV_NO_CONFIG": "1", "VIRTUAL_ENV": str(tmp_path / "venv")}
    env.pop("UV_NO_CACHE", None)
    pins = tmp_path / "lowest.txt"

    def uv_run(*args: str) -> None:
        done = subprocess.run(
            [uv, *args], capture_output=True, text=True, env=env, check=False, timeout=240
        )
        output = done.stdout + done.stderr
        if done.returncode != 0 and "Failed to fetch" in output and not os.environ.get("CI"):
            pytest.skip(f"the package index is not reachable here: {output.strip()[-200:]}")
        assert done.returncode == 0, output

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    uv_run(
        "pip", "compile", str(ROOT / "pyproject.toml"), "--resolution", "lowest-direct",
        "--python-version", python, "--quiet", "--no-header", "-o", str(pins), *indexes,
    )  # fmt: skip
    lowest = pins.read_text()
    assert "typer==0.16.0" in lowest, lowest  # the bound itself is what gets tested
    uv_run("venv", "--quiet", "--python", sys.executable, str(tmp_path / "venv"))
    uv_run("pip", "install", "--quiet", "-r", str(pins), *indexes)
    uv_run("pip", "install", "--quiet", "--no-deps", str(wheel))

    venv_python = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    helped = subprocess.run(
        [str(venv_python), "-c", EVERY_HELP],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert int(helped.stdout.strip().splitlines()[-1]) >= 20  # every command was asked
