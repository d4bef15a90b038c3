"""The wheel carries the labs: a non-editable install works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from valkey_workshop.commands.pack import build_source_wheel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a private copy of the tree: other tests (pack) build the same tree at once.
    return build_source_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def test_parallel_wheel_builds_of_one_tree_all_succeed(tmp_path: Path) -> None:
    # Three at once, as pytest-xdist runs the packaging and pack tests: building in the tree
    # itself failed two of three with [Errno 2] in build/.
    with ThreadPoolExecutor(3) as pool:
        built = list(
            pool.map(lambda n: build_source_wheel(ROOT, _made(tmp_path / str(n))), range(3))
        )
    assert all(path.is_file() and zipfile.is_zipfile(path) for path in built)


def _made(folder: Path) -> Path:
    folder.mkdir()
    return folder


def test_wheel_holds_every_lab_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "labs").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"valkey_workshop/_labs/{path.relative_to(ROOT / 'labs')}" in names
    assert "valkey_workshop/py.typed" in names
    # Trainer notes travel beside their module (issue 22), not in a package of their own.
    assert "valkey_workshop/_labs/module3/trainer-notes.md" in names
    assert not any(name.startswith("valkey_workshop/_trainer_notes/") for name in names)


def test_installed_wheel_runs_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", "list", "module3"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(target), "WORKSHOP_WORKDIR": str(tmp_path / "w")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "02 cache-aside" in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import valkey_workshop.content as c; print(c.labs_root())"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip().startswith(str(target))


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- tests -->", 1)[1].split("<!-- /tests -->", 1)[0]
    command = [line for line in block.strip().splitlines() if not line.startswith("```")]
    assert len(command) == 1 and "pytest" in command[0]
    assert "lint-imports" in command[0]  # the layers of pyproject.toml's [tool.importlinter]
    assert "<!-- tests -->" in (ROOT / ".ci" / "run").read_text()
