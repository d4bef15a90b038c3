"""The results of the one-step verbs: ``hint``, ``solution``, ``skip``, and the time a learner
spent on a step (added by the guided session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from valkey_workshop.content.models import Step
from valkey_workshop.results.envelope import Message, said
from valkey_workshop.session.progress import StepProgress


@dataclass(frozen=True)
class HintReveal:
    step: Step
    number: int
    total: int
    text: str

    @property
    def last(self) -> bool:
        return self.number >= self.total

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()

    @property
    def exit_code(self) -> int:
        return 0


@dataclass(frozen=True)
class SolutionView:
    step: Step
    code: str
    learner_file: Path
    learner_code: str | None
    forced: bool

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()

    @property
    def exit_code(self) -> int:
        return 0


@dataclass(frozen=True)
class SkipOutcome:
    """A step marked skipped: its progress after it."""

    step: Step
    progress: StepProgress

    @property
    def messages(self) -> tuple[Message, ...]:
        return (said(f"Step {self.step.label}: {self.progress.status}."),)

    @property
    def exit_code(self) -> int:
        return 0


@dataclass(frozen=True)
class TimeSpent:
    """Time added to a step: how much, and the step's progress after it (its total in
    ``progress.seconds_spent``, what ``list`` and the summary show)."""

    step: Step
    added_seconds: float
    progress: StepProgress

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()  # nothing to say: the session goes on, and ``list`` shows the total

    @property
    def exit_code(self) -> int:
        return 0
