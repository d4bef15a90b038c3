"""Trainer notes: ``trainer-notes/<module>.md``, split per step.

A step's notes are the section under a heading ``## Step NN · slug ...``; everything before
the first step heading is the module's plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from valkey_workshop.errors import UsageError

_STEP_HEADING = re.compile(r"^## Step (\d+)\b.*$", re.MULTILINE)


def notes_root() -> Path:
    try:
        return Path(str(resources.files("valkey_workshop._trainer_notes")))
    except ModuleNotFoundError:
        # A source checkout that is not installed: the notes sit beside the package.
        return Path(__file__).resolve().parents[2] / "trainer-notes"


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
    """The trainer notes of ``module_id``.

    Raises:
        UsageError: the module has no trainer notes.
    """
    path = (root or notes_root()) / f"{module_id}.md"
    if not path.is_file():
        raise UsageError(f"No trainer notes for {module_id} ({path}).")
    text = path.read_text(encoding="utf-8")
    headings = list(_STEP_HEADING.finditer(text))
    plan = text[: headings[0].start()] if headings else text
    steps = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        body = text[heading.start() : end].strip()
        steps[int(heading.group(1))] = body.removesuffix("---").strip()
    return TrainerNotes(module_id, text, plan.strip().removesuffix("---").strip(), steps)
