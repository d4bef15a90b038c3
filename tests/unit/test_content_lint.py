"""Content lint: each mistake is a problem naming the file and line, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from valkey_workshop.checking.lint import step_problems
from valkey_workshop.content.loader import labs_root, load_module


@pytest.fixture
def labs(tmp_path: Path) -> Path:
    """A copy of module3 to break."""
    shutil.copytree(labs_root() / "module3", tmp_path / "module3")
    return tmp_path


def problems(labs: Path, slug: str) -> list[str]:
    return [str(problem) for problem in step_problems(load_module("module3", labs).step(slug))]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_content_is_clean() -> None:
    assert all(not step_problems(step) for step in load_module("module3").steps)


def test_a_wrong_answer_declared_against_no_check(labs: Path) -> None:
    manifest = labs / "module3/02_cache_aside/step.toml"
    edit(manifest, 'fails = "cached-as-json-with-ttl"', 'fails = "cached-with-tll"')
    (found,) = problems(labs, "cache-aside")
    assert found.startswith(f"{manifest} line 11: wrong answer no_ttl.py is declared to fail")
    assert "'cached-with-tll', which checks.py does not define" in found


def test_a_hint_beyond_the_steps_hints_and_a_missing_lesson_heading(labs: Path) -> None:
    checks = labs / "module3/02_cache_aside/checks.py"
    edit(
        checks,
        '    hint=1,\n    lesson="The read path",',
        '    hint=7,\n    lesson="The reed path",',
    )
    found = problems(labs, "cache-aside")
    assert len(found) == 2
    assert "points at hint 7, but step.toml has 3 hints" in found[0]
    assert "'The reed path', which lesson.md has no heading for" in found[1]
    assert found[0].startswith(f"{checks} line ")


def test_checks_that_do_not_load(labs: Path) -> None:
    checks = labs / "module3/03_ttl_persist/checks.py"
    edit(
        checks,
        "from valkey_workshop.checking import advice",
        "import no_such_module\nfrom valkey_workshop.checking import advice",
    )
    (found,) = problems(labs, "ttl-persist")
    assert found.startswith(f"{checks} line ")
    assert "does not load: ModuleNotFoundError" in found
    assert problems(labs, "cache-aside") == []  # the other steps are untouched


def test_a_demo_with_a_syntax_error_or_without_run(labs: Path) -> None:
    demo = labs / "module3/01_bottleneck/demo.py"
    edit(demo, "def run(demo):", "def run(demo)")
    (found,) = problems(labs, "bottleneck")
    assert found.startswith(f"{demo} line ") and "SyntaxError" in found
    edit(demo, "def run(demo)", "def start(demo):")
    assert problems(labs, "bottleneck") == [
        f"{demo}: has no run(demo) function, which the demo runner calls"
    ]
