"""Content lint: mistakes in a step's files that would otherwise surface as a traceback, or
not at all (a wrong answer declared against a check that does not exist proves nothing).

``workshop verify`` lists each problem as a failed finding naming the file and, where there
is one, the line; the step's other proofs, and the other steps, are still proven.
"""

from __future__ import annotations

import ast
import re
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from valkey_workshop.checking.api import CheckSpec, checks_in
from valkey_workshop.content.models import Step
from valkey_workshop.pyfile import load_file_as_module

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class ContentProblem:
    """One mistake in a step's content: the file, the line (when known) and what is wrong."""

    file: Path
    line: int | None
    problem: str
    #: The checks cannot run at all (checks.py does not load, or defines none): the step's
    #: proofs that run them are left out.
    stops_checks: bool = False

    @property
    def where(self) -> str:
        """``labs/module3/02_cache_aside/step.toml line 12``."""
        return f"{self.file} line {self.line}" if self.line else str(self.file)

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def step_problems(step: Step) -> list[ContentProblem]:
    """Every problem the lint finds in ``step``'s files, in file order; empty when clean."""
    problems: list[ContentProblem] = []
    specs = _check_specs(step, problems)
    if specs is not None:
        problems += _declaration_problems(step, specs)
        problems += _spec_problems(step, specs)
    problems += _demo_problems(step)
    return problems


def _check_specs(step: Step, problems: list[ContentProblem]) -> list[CheckSpec] | None:
    """The checks ``checks.py`` defines, or None (with the problem noted) when it does not
    load or defines none."""
    path = step.checks
    if not path.is_file():
        problems.append(
            ContentProblem(path, None, "missing: every step needs its checks", stops_checks=True)
        )
        return None
    name = f"workshop_lint_checks_{uuid.uuid4().hex}"
    try:
        module = load_file_as_module(path, name)
    except BaseException as error:  # noqa: BLE001 - a broken checks.py is a finding, never a crash
        problems.append(
            ContentProblem(path, _error_line(error, path), _load_error(error), stops_checks=True)
        )
        return None
    finally:
        sys.modules.pop(name, None)  # imported for the lint only
    specs = [spec for spec, _ in checks_in(module)]
    if not specs:
        problems.append(
            ContentProblem(path, None, "defines no check (no @check function)", stops_checks=True)
        )
        return None
    return specs


def _load_error(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"does not load: SyntaxError: {error.msg}"
    text = str(error)
    return f"does not load: {type(error).__name__}" + (f": {text}" if text else "")


def _error_line(error: BaseException, path: Path) -> int | None:
    if isinstance(error, SyntaxError) and error.lineno:
        return error.lineno
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            return frame.lineno
    return None


def _toml_line(path: Path, pattern: str) -> int | None:
    """The first line of ``path`` that contains ``pattern``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return next((number for number, text in enumerate(lines, 1) if pattern in text), None)


def _fails_line(manifest: Path, file_name: str, fails: str) -> int | None:
    """The line of the ``fails = ...`` in the declaration of ``file_name`` (the first
    ``fails`` naming that id after the declaration's ``file = ...``)."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    start = next(
        (n for n, text in enumerate(lines) if text.startswith("file") and file_name in text), 0
    )
    for number in range(start, len(lines)):
        if lines[number].startswith("fails") and f'"{fails}"' in lines[number]:
            return number + 1
    return _toml_line(manifest, f'"{fails}"')


def _declaration_problems(step: Step, specs: list[CheckSpec]) -> list[ContentProblem]:
    """A wrong answer declared against a check id that ``checks.py`` does not define."""
    ids = {spec.id for spec in specs}
    manifest = step.folder / "step.toml"
    problems = []
    for wrong in step.wrong_answers:
        if wrong.fails not in ids:
            known = ", ".join(sorted(ids))
            problems.append(
                ContentProblem(
                    manifest,
                    _fails_line(manifest, wrong.file.name, wrong.fails),
                    f"wrong answer {wrong.file.name} is declared to fail check "
                    f"{wrong.fails!r}, which checks.py does not define (its checks: {known})",
                )
            )
    return problems


def lesson_headings(lesson: Path) -> set[str]:
    """The headings of a lesson (``## The read path`` → ``The read path``)."""
    try:
        text = lesson.read_text(encoding="utf-8")
    except OSError:
        return set()
    headings = set()
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        found = None if in_code else _HEADING.match(line)
        if found:
            headings.add(found.group(1).strip())
    return headings


def _spec_problems(step: Step, specs: list[CheckSpec]) -> list[ContentProblem]:
    """A check pointing at a hint the step does not have, or at a lesson heading that
    lesson.md lacks."""
    problems = []
    headings = lesson_headings(step.lesson)
    for spec in specs:
        line = _toml_line(step.checks, f'"{spec.id}"')
        if spec.hint is not None and not 1 <= spec.hint <= len(step.hints):
            problems.append(
                ContentProblem(
                    step.checks,
                    line,
                    f"check {spec.id!r} points at hint {spec.hint}, but step.toml has "
                    f"{len(step.hints)} hint{'s' if len(step.hints) != 1 else ''}",
                )
            )
        if spec.lesson is not None and spec.lesson not in headings:
            problems.append(
                ContentProblem(
                    step.checks,
                    line,
                    f"check {spec.id!r} points at the lesson section {spec.lesson!r}, which "
                    f"{step.lesson.name} has no heading for",
                )
            )
    return problems


def _demo_problems(step: Step) -> list[ContentProblem]:
    """A demo.py that does not parse, or has no top-level ``run()``."""
    path = step.demo
    if not path.is_file():
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as error:
        return [ContentProblem(path, error.lineno, f"does not load: SyntaxError: {error.msg}")]
    except (OSError, ValueError) as error:
        return [ContentProblem(path, None, f"does not load: {error}")]
    runs = any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "run"
        for node in tree.body
    )
    if not runs:
        return [
            ContentProblem(path, None, "has no run(demo) function, which the demo runner calls")
        ]
    return []
