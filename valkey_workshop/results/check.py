"""``check``'s result: the report, and what to say around it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valkey_workshop.checking.results import CheckReport
from valkey_workshop.results.envelope import Message, error, json_document, notice, warning
from valkey_workshop.words import plural

if TYPE_CHECKING:
    from valkey_workshop.classroom.membership import PublishOutcome


def created_text(created: tuple[Path, ...]) -> str | None:
    """One line for the exercise files a command created from starters."""
    if not created:
        return None
    if len(created) == 1:
        return f"Created {created[0]} from its starter."
    folder = created[0].parent
    return f"Created {plural(len(created), 'exercise file')} in {folder} from the starters."


@dataclass(frozen=True)
class CheckOutcome:
    """``check``'s result. ``notices`` say what the server guard put back; ``server_stopped``
    says why checking ended early (the server stopped under a step's checks)."""

    report: CheckReport
    created: tuple[Path, ...]
    warnings: tuple[str, ...]
    #: What happened to the results for the learner's class (None: not in a class).
    published: PublishOutcome | None = None
    notices: tuple[str, ...] = ()
    server_stopped: str | None = None
    #: Why the results could not be recorded in the progress file (read-only workdir), or
    #: None. The report is valid either way: the command shows it, then this.
    progress_error: str | None = None

    @property
    def messages(self) -> tuple[Message, ...]:
        """In the order shown: the progress file's warnings and the files created (before the
        report), then the guard's notices, the class line and what the trainer said, why
        checking stopped, and why the results could not be recorded (after it)."""
        said = [warning(text, "before") for text in self.warnings]
        if (created := created_text(self.created)) is not None:
            said.append(notice(created, "before"))
        said.extend(notice(text) for text in self.notices)
        if self.published is not None and self.published.line:
            said.append(notice(self.published.line))
        if self.published is not None and self.published.announcement:
            said.append(notice(f"Trainer: {self.published.announcement}"))
        if self.server_stopped is not None:
            said.append(error(self.server_stopped))
        if self.progress_error:  # the verdict stands; only its record is missing
            said.append(error(self.progress_error))
        return tuple(said)

    @property
    def exit_code(self) -> int:
        """0 every step ran and passed; 1 a step's checks failed; 2 the server stopped, the
        results could not be recorded, or a step could not run on this server (and none
        failed)."""
        steps = self.report.steps
        if self.server_stopped is not None or self.progress_error:
            return 2
        if any(step.failed for step in steps):
            return 1
        return 2 if any(step.not_run is not None for step in steps) else 0

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` document: the report's keys in the envelope."""
        return json_document("check", self.report.to_json())
