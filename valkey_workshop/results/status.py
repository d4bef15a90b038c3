"""``list``'s and the summary's results: each step's status, and a module's totals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valkey_workshop.content.models import Module, Step
from valkey_workshop.results.envelope import Message, json_document, warning
from valkey_workshop.session.progress import CallExtreme, StepProgress


@dataclass(frozen=True)
class StepStatus:
    step: Step
    progress: StepProgress
    exercise: Path


@dataclass(frozen=True)
class ModuleStatus:
    module: Module
    steps: tuple[StepStatus, ...]
    warning: str | None

    @property
    def next_step(self) -> Step | None:
        """The first step not passed and not skipped."""
        for status in self.steps:
            if status.step.problem is None and status.progress.status not in ("passed", "skipped"):
                return status.step
        return None


@dataclass(frozen=True)
class ModuleSummary:
    """The end of a module: every step, attempts, time, and the extreme calls."""

    status: ModuleStatus
    total_seconds: float
    total_attempts: int
    slowest: tuple[Step, CallExtreme] | None
    fastest: tuple[Step, CallExtreme] | None

    @property
    def complete(self) -> bool:
        return self.status.next_step is None

    @property
    def shows_totals(self) -> bool:
        """Whether ``list`` shows the summary under the steps (once there is something to sum)."""
        return bool(self.total_attempts) or self.complete

    @property
    def messages(self) -> tuple[Message, ...]:
        return (warning(self.status.warning, "before"),) if self.status.warning else ()

    @property
    def exit_code(self) -> int:
        return 0

    def to_json(self) -> dict[str, Any]:
        """The ``list MODULE --json`` document."""
        return json_document(
            "list",
            {
                "module": self.status.module.id,
                "steps": [
                    {
                        "step": entry.step.number,
                        "slug": entry.step.slug,
                        "title": entry.step.title,
                        "status": entry.progress.status,
                        "attempts": entry.progress.attempts,
                        "seconds_spent": round(entry.progress.seconds_spent, 1),
                        "hints_revealed": entry.progress.hints_revealed,
                        "exercise": str(entry.exercise),
                    }
                    for entry in self.status.steps
                ],
                "next_step": _number(self.status.next_step),
                "total_attempts": self.total_attempts,
                "total_seconds": round(self.total_seconds, 1),
                "complete": self.complete,
                "warning": self.status.warning,
            },
        )


def _number(step: Step | None) -> int | None:
    return None if step is None else step.number


def modules_json(modules: tuple[Module, ...]) -> dict[str, Any]:
    """The ``list --json`` document (no module named: every module)."""
    return json_document(
        "list",
        {
            "modules": [
                {"id": module.id, "title": module.title, "steps": len(module.steps)}
                for module in modules
            ]
        },
    )
