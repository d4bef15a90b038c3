"""``verify --mutants``'s result: every mutant of every step, and the JSON document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from valkey_workshop.results.envelope import Message, json_document

if TYPE_CHECKING:
    from valkey_workshop.mutation.engine import Outcome, StepMutants
    from valkey_workshop.server.base import ServerInfo


@dataclass(frozen=True)
class MutantsReport:
    """The mutation run of a module (or of one of its steps)."""

    module: str
    server: ServerInfo
    steps: tuple[StepMutants, ...]
    seconds: float = 0.0

    def _count(self, outcome: Outcome) -> int:
        return sum(step.count(outcome) for step in self.steps)

    @property
    def total(self) -> int:
        return sum(len(step.results) for step in self.steps)

    @property
    def killed(self) -> int:
        return self._count("killed")

    @property
    def declared_equivalent(self) -> int:
        return self._count("equivalent")

    @property
    def survived(self) -> int:
        return self._count("survived")

    @property
    def score(self) -> float:
        """Killed or declared equivalent, as a share of every mutant run (1.0 when none ran)."""
        return (self.killed + self.declared_equivalent) / self.total if self.total else 1.0

    @property
    def ok(self) -> bool:
        """Nothing survived, no declaration is stale, every step could be judged."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()

    @property
    def exit_code(self) -> int:
        """0 no mutant survived (and every step was judged); 1 otherwise."""
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        """The ``verify --mutants --json`` document."""
        return json_document("verify --mutants", self._body())

    def _body(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "backend": self.server.backend,
            "server_version": self.server.version,
            "steps": [_step_json(step) for step in self.steps],
            "total": self.total,
            "killed": self.killed,
            "declared_equivalent": self.declared_equivalent,
            "survived": self.survived,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
        }


def _step_json(step: StepMutants) -> dict[str, Any]:
    return {
        "step": step.step.number,
        "slug": step.step.slug,
        "mutants": [
            {
                "id": result.mutant.id,
                "operator": result.mutant.operator,
                "line": result.mutant.line,
                "outcome": result.outcome,
                "killed_by": result.killed_by,
                "description": result.mutant.description,
                "detail": result.detail,
                "seconds": round(result.seconds, 3),
            }
            for result in step.results
        ],
        "generated": step.generated,
        "discarded": step.discarded,
        "stale_declarations": [
            {"id": problem.id, "problem": problem.problem} for problem in step.problems
        ],
        "notes": list(step.notes),
        "error": step.error,
        "seconds": round(step.seconds, 3),
        "time_limit_seconds": round(step.time_limit_seconds, 3),
    }
