"""``workshop verify MODULE [STEP] --mutants``: mutation testing of a module's checks.

Every mutant of every reference solution must be rejected by the step's checks, or be
declared equivalent (still a right answer) in ``step.toml``. See :mod:`valkey_workshop.mutation`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from valkey_workshop.checking.proofs import run_proofs
from valkey_workshop.content.models import Module, Step
from valkey_workshop.mutation.engine import (
    DEFAULT_CAP,
    Outcome,
    ProofRunner,
    StepMutants,
    mutate_step,
)
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

    def to_json(self) -> dict[str, Any]:
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


def verify_mutants(
    module: Module,
    steps: tuple[Step, ...],
    server: ServerInfo,
    *,
    jobs: int | None = None,
    cap: int = DEFAULT_CAP,
    on_step: Callable[[StepMutants], None] | None = None,
    on_mutant: Callable[[Step, int, int], None] | None = None,
    proofs: ProofRunner = run_proofs,
) -> MutantsReport:
    """Run the mutants of each step's reference solution through its checks.

    Args:
        jobs: how many proofs may run at once (see ``checking.proofs.run_proofs``).
        cap: at most this many mutants per step.
        on_step: called with each step's result as soon as the step is done.
        on_mutant: called with (step, mutants judged, mutants in all) as results arrive.
        proofs: runs the check runs (``run_proofs`` with options bound, e.g. spare servers).
    """
    started = time.perf_counter()
    results = []
    for step in steps:

        def progress(done: int, total: int, step: Step = step) -> None:
            if on_mutant is not None:
                on_mutant(step, done, total)

        result = (
            # A broken step has no solution to mutate: one failed row saying why.
            StepMutants(step, error=step.problem)
            if step.problem is not None
            else mutate_step(
                step, server.url, jobs=jobs, cap=cap, on_mutant=progress, proofs=proofs
            )
        )
        if on_step is not None:
            on_step(result)
        results.append(result)
    return MutantsReport(module.id, server, tuple(results), time.perf_counter() - started)
