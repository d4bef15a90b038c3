"""``workshop verify MODULE [STEP] --mutants``: mutation testing of a module's checks.

Every mutant of every reference solution must be rejected by the step's checks, or be
declared equivalent (still a right answer) in ``step.toml``. See :mod:`valkey_workshop.mutation`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from valkey_workshop.checking.proofs import run_proofs
from valkey_workshop.content.models import Module, Step
from valkey_workshop.errors import ServerError
from valkey_workshop.mutation.engine import DEFAULT_CAP, ProofRunner, StepMutants, mutate_step
from valkey_workshop.results.mutants import MutantsReport
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import guard_for

__all__ = ["MutantsReport", "verify_mutants"]


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

    Raises:
        ServerError: the server holds others' data (or the guard refuses a step on it for
            another reason): nothing ran.
    """
    # Every mutant is a wrong answer that may do anything to its database: like verify,
    # mutation proofs run only on a server holding nothing but the workshop's keys.
    refusal = next((r for r in guard_for(server).refuse_steps(steps) if r is not None), None)
    if refusal is not None:
        raise ServerError(refusal.message)
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
