"""Proof execution: many (step, exercise file) check runs, with their results in input order.

``verify`` and ``verify --mutants`` hand their proofs here, so that one place decides how
they run. This version runs them one after the other on the server at ``url``.

Parallel runs (``jobs``) must give a step with ``changes_server`` a server of its own: its
checks change server-wide settings (CONFIG SET, memory limits), which would disturb other
proofs on a shared server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from valkey_workshop.checking.results import StepResult
from valkey_workshop.checking.runner import run_step_checks
from valkey_workshop.content.models import Step


def run_proofs(
    step_files: Sequence[tuple[Step, Path]],
    url: str,
    *,
    jobs: int | None = None,
    on_result: Callable[[int, StepResult], None] | None = None,
) -> list[StepResult]:
    """Check each file against its step's checks; results in the order of ``step_files``.

    Args:
        step_files: the proofs, each a step and the exercise file to check against it.
        url: the server to check on.
        jobs: how many proofs may run at once (None: the machine's choice). Serial for now.
        on_result: called with the proof's index and result as each one finishes.
    """
    del jobs  # serial: one proof at a time
    results: list[StepResult] = []
    for index, (step, exercise) in enumerate(step_files):
        result = run_step_checks(step, exercise, url)
        if on_result is not None:
            on_result(index, result)
        results.append(result)
    return results
