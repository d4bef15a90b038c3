"""The result of ``workshop reset``: what was restored, and where each learner file went."""

from __future__ import annotations

from dataclasses import dataclass

from valkey_workshop.content.models import Module
from valkey_workshop.results.envelope import Message
from valkey_workshop.session.workdir import ResetOutcome


@dataclass(frozen=True)
class ResetReport:
    """The starters of some steps of ``module`` restored: one outcome a step, in order (its
    exercise file, and the backup of the learner's version, if there was one to keep)."""

    module: Module
    outcomes: tuple[ResetOutcome, ...]

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()  # the restored files are the report itself (render/views.reset_view)

    @property
    def exit_code(self) -> int:
        return 0
