"""A demo's run under the server guard, and ``workshop demo``'s result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from valkey_workshop.results.envelope import Message, notice
from valkey_workshop.words import plural

if TYPE_CHECKING:
    from valkey_workshop.content.models import Step
    from valkey_workshop.demo import DemoOutcome


@dataclass(frozen=True)
class DemoRun:
    """One demo run: what it did, or why it did not run (refused, the server stopped, the
    demo raised), and what the guard put back afterwards."""

    step: Step
    outcome: DemoOutcome | None = None
    #: The guard refused the demo on this server: why.
    refusal: str | None = None
    #: The server stopped during the demo: why (it was restarted when it is ours).
    stopped: str | None = None
    #: The demo raised this (a broken demo is a finding, never the end of a session).
    failure: Exception | None = None
    #: One line per thing the guard found and put back (``Aftermath.messages``).
    notices: tuple[str, ...] = ()

    @property
    def ran(self) -> bool:
        return self.outcome is not None

    @property
    def failure_text(self) -> str | None:
        """``TypeName: message`` of the exception the demo raised, or None."""
        if self.failure is None:
            return None
        return f"{type(self.failure).__name__}: {self.failure}"


@dataclass(frozen=True)
class PresenterOutcome:
    """``workshop demo``'s end: the demos that did not run, each as ``label: why``."""

    failures: tuple[str, ...] = ()
    #: Steps whose demo the server guard refused on this server (a refusal: exit 2).
    refused: tuple[str, ...] = ()

    @property
    def messages(self) -> tuple[Message, ...]:
        if not self.failures:
            return ()
        count = plural(len(self.failures), "demo")
        return (notice(f"{count} failed: " + "; ".join(self.failures)),)

    @property
    def exit_code(self) -> int:
        """0 every demo ran; 2 the server guard refused one (as every refusal); 1 one failed."""
        if self.refused:
            return 2
        return 1 if self.failures else 0
