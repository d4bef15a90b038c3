"""Trainer notes: ``<module>/trainer-notes.md`` beside the module's ``module.toml``, split per
step, so a module from any course root carries its own.

A step's notes are the section under a heading ``## Step NN · slug ...``; everything before
the first step heading is the module's plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from valkey_workshop.content.loader import find_module
from valkey_workshop.errors import UsageError

#: The notes' file name inside a module folder.
NOTES_FILE = "trainer-notes.md"

_STEP_HEADING = re.compile(r"^## Step (\d+)\b.*$", re.MULTILINE)


@dataclass(frozen=True)
class TrainerNotes:
    """A module's notes: the plan, and one Markdown section per step number."""

    module_id: str
    text: str
    plan: str
    steps: dict[int, str] = field(default_factory=dict)

    def for_step(self, number: int) -> str | None:
        return self.steps.get(number)


def load_notes(module_id: str, root: Path | None = None) -> TrainerNotes:
    """The trainer notes of ``module_id``, found on the course roots (or under ``root``).

    Raises:
        UsageError: the module has no trainer notes (or does not exist).
        ContentError: two course roots hold a module of this id.
    """
    folder = root / module_id if root is not None else find_module(module_id).folder
    path = folder / NOTES_FILE
    if not path.is_file():
        raise UsageError(f"No trainer notes for {module_id}: {path} does not exist.")
    text = path.read_text(encoding="utf-8")
    headings = list(_STEP_HEADING.finditer(text))
    plan = text[: headings[0].start()] if headings else text
    steps = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        body = text[heading.start() : end].strip()
        steps[int(heading.group(1))] = body.removesuffix("---").strip()
    return TrainerNotes(module_id, text, plan.strip().removesuffix("---").strip(), steps)
