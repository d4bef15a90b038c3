"""``verify``'s result: every finding about a module's content."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from valkey_workshop.content.models import Step
from valkey_workshop.results.envelope import Message

if TYPE_CHECKING:
    from valkey_workshop.server.base import ServerInfo


@dataclass(frozen=True)
class VerifyFinding:
    """One thing ``verify`` proved or disproved about a step's content."""

    step: Step
    subject: str
    ok: bool
    detail: str
    #: False for a proof that cannot run on this server (it needs a command the server
    #: lacks): no failure (``ok``), with the reason in ``detail``.
    applicable: bool = True
    #: The server guard refused the step on this server (``detail`` says why): nothing of it
    #: was proven, which is a refusal (exit 2), not a failed proof.
    refused: bool = False


@dataclass(frozen=True)
class VerifyReport:
    module: str
    server: ServerInfo
    findings: tuple[VerifyFinding, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    jobs: int = 1

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(finding.ok for finding in self.findings)

    @property
    def refused(self) -> bool:
        """Whether the server guard refused some step here (the command exits 2)."""
        return any(finding.refused for finding in self.findings)

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()

    @property
    def exit_code(self) -> int:
        """0 every proof held; 2 the server guard refused a step (nothing of it was proven:
        a refusal, as every refusal); 1 a proof did not hold."""
        if self.refused:
            return 2
        return 0 if self.ok else 1
