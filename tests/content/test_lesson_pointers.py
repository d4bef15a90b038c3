"""Every pointer into a lesson lands on a heading that exists in that step's lesson.md.

Checks point with ``@check(..., lesson="Heading")``. Hints point in prose: the word
"section" (or "sections") followed, in the same sentence, by the heading in italics, as in
"The lesson's section *The write path* shows the order".
"""

from __future__ import annotations

import re

import pytest

from valkey_workshop.checking.api import checks_in
from valkey_workshop.content import Step, load_module
from valkey_workshop.pyfile import load_file_as_module

STEPS = load_module("module3").steps
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
#: "section" then the rest of its sentence (a sentence ends at ". ", "; " is part of it).
_SECTION_SENTENCE = re.compile(r"\bsections?\b(.*?)(?:\.(?:\s|$)|$)", re.IGNORECASE | re.DOTALL)
#: *Heading* in single asterisks (not **bold**).
_ITALIC = re.compile(r"(?<![*\w])\*([^*\n]+?)\*(?![*\w])")


def headings(step: Step) -> set[str]:
    return {match.group(1).strip() for match in _HEADING.finditer(step.lesson.read_text())}


def hint_pointers(hint: str) -> list[str]:
    """The lesson headings a hint points to."""
    return [
        italic.group(1).strip()
        for sentence in _SECTION_SENTENCE.finditer(hint)
        for italic in _ITALIC.finditer(sentence.group(1))
    ]


def test_hint_pointers_are_read_as_written() -> None:
    hint = (
        "Look at the *old* record. The lesson's section *Why it is slow* answers q1; "
        "*Where Valkey sits* answers q3. See sections *A* and *B*. **Bold** is no pointer."
    )
    assert hint_pointers(hint) == ["Why it is slow", "Where Valkey sits", "A", "B"]


@pytest.mark.parametrize("step", STEPS, ids=[step.slug for step in STEPS])
def test_check_lesson_pointers_resolve(step: Step) -> None:
    module = load_file_as_module(step.checks, f"pointer_checks_{step.number:02d}")
    known = headings(step)
    broken = [
        f"check {spec.id!r} points to {spec.lesson!r}"
        for spec, _ in checks_in(module)
        if spec.lesson is not None and spec.lesson not in known
    ]
    assert not broken, f"{step.lesson} has headings {sorted(known)}; " + "; ".join(broken)


@pytest.mark.parametrize("step", STEPS, ids=[step.slug for step in STEPS])
def test_hint_lesson_pointers_resolve(step: Step) -> None:
    known = headings(step)
    broken = [
        f"hint {number} points to {pointer!r}"
        for number, hint in enumerate(step.hints, 1)
        for pointer in hint_pointers(hint)
        if pointer not in known
    ]
    assert not broken, f"{step.lesson} has headings {sorted(known)}; " + "; ".join(broken)


@pytest.mark.parametrize("step", STEPS, ids=[step.slug for step in STEPS])
def test_check_hint_numbers_exist(step: Step) -> None:
    module = load_file_as_module(step.checks, f"hint_checks_{step.number:02d}")
    broken = [
        f"check {spec.id!r} names hint {spec.hint}"
        for spec, _ in checks_in(module)
        if spec.hint is not None and not 1 <= spec.hint <= len(step.hints)
    ]
    assert not broken, f"{step.label} has {len(step.hints)} hints; " + "; ".join(broken)
