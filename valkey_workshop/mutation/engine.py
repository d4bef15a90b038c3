"""Runs a step's mutants through its checks and classifies each one.

For one step:

1. the mutants of ``solution.py`` are generated (:mod:`.operators`) and, past a cap, a
   stable selection is kept (declared equivalents always stay);
2. the reference solution is checked as it is: it must pass, and its check times decide
   the order for mutants (fastest checks first) and a mutant's time limit;
3. the reference and every mutant run through the step's own checks in that order, each
   run stopping at the first failure (a ``CheckSelection`` the checking job carries), as
   proofs (:func:`~valkey_workshop.checking.proofs.run_proofs`); the reference must still
   pass that way, or the step's results are void;
4. each mutant is *killed* (the first check that rejected it, or the time limit),
   *equivalent* (declared in ``step.toml`` and passing), or *survived*.

Declarations that match no mutant are stale, and a declared equivalent that a check
rejects is a contradiction (a right answer rejected, or a wrong declaration): both fail the
run, so declarations cannot rot.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

import valkey

from valkey_workshop.checking.proofs import run_proofs
from valkey_workshop.checking.protocol import CheckSelection
from valkey_workshop.checking.results import StepResult
from valkey_workshop.content.models import EquivalentMutant, Step
from valkey_workshop.errors import ServerError
from valkey_workshop.mutation.operators import OPERATOR_NAMES, Mutant, generate
from valkey_workshop.mutation.strays import stray_keys_removed

#: At most this many mutants run per step; past it, a stable selection (see :func:`select`).
DEFAULT_CAP = 100
#: A mutant may take this many times as long as the reference solution took ...
TIME_LIMIT_FACTOR = 3.0
#: ... but at least this many seconds (process start and a loaded machine), and never more
#: than the step's own time limit.
MIN_TIME_LIMIT_SECONDS = 5.0

Outcome = Literal["killed", "equivalent", "survived"]


class ProofRunner(Protocol):
    """How proofs run: :func:`~valkey_workshop.checking.proofs.run_proofs`, or the same with
    options bound (``functools.partial(run_proofs, spare_server=...)``)."""

    def __call__(
        self,
        step_files: Sequence[tuple[Step, Path]],
        url: str,
        *,
        jobs: int | None = None,
        on_result: Callable[[int, StepResult], None] | None = None,
        selection: CheckSelection = ...,
    ) -> list[StepResult]: ...


#: ``killed_by`` of a mutant whose checks did not finish in time.
TIME_LIMIT = "time-limit"
#: ``killed_by`` of a mutant whose checking process ended without a verdict.
CRASHED = "crashed"


@dataclass(frozen=True)
class MutantResult:
    """What the checks made of one mutant."""

    mutant: Mutant
    outcome: Outcome
    #: The first check that failed (or ``time-limit``/``crashed``); None unless killed.
    killed_by: str | None
    #: The failing check's first message line, or the declaration's reason.
    detail: str
    seconds: float


@dataclass(frozen=True)
class DeclarationProblem:
    """An ``[[equivalent_mutants]]`` entry that no longer holds."""

    id: str
    problem: str


@dataclass(frozen=True)
class StepMutants:
    """The mutation run of one step."""

    step: Step
    results: tuple[MutantResult, ...] = ()
    #: Mutants the operators gave (before the cap), and edits that gave no usable mutant.
    generated: int = 0
    discarded: int = 0
    problems: tuple[DeclarationProblem, ...] = ()
    #: Worth saying, not failing the run (a declaration written with an earlier id).
    notes: tuple[str, ...] = ()
    #: Why the step's mutants could not be judged (the reference solution fails), if so.
    error: str | None = None
    seconds: float = 0.0
    time_limit_seconds: float = 0.0

    def count(self, outcome: Outcome) -> int:
        return sum(result.outcome == outcome for result in self.results)

    @property
    def survivors(self) -> tuple[MutantResult, ...]:
        return tuple(result for result in self.results if result.outcome == "survived")

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems and not self.survivors


def select(mutants: Sequence[Mutant], cap: int, keep: frozenset[str]) -> tuple[Mutant, ...]:
    """At most ``cap`` mutants (plus every id in ``keep``), in their original order.

    Past the cap, operators take turns (in :data:`OPERATOR_NAMES` order), each giving its
    mutants in id order: every operator is represented, and the choice depends on ids only,
    so it is the same on every run.
    """
    if len(mutants) <= cap:
        return tuple(mutants)
    chosen = {mutant.id for mutant in mutants if mutant.id in keep}
    queues = {
        name: sorted(m.id for m in mutants if m.operator == name and m.id not in chosen)
        for name in OPERATOR_NAMES
    }
    while len(chosen) < cap and any(queues.values()):
        for name in OPERATOR_NAMES:
            if queues[name] and len(chosen) < cap:
                chosen.add(queues[name].pop(0))
    return tuple(mutant for mutant in mutants if mutant.id in chosen)


def mutate_step(
    step: Step,
    url: str,
    *,
    jobs: int | None = None,
    cap: int = DEFAULT_CAP,
    on_mutant: Callable[[int, int], None] | None = None,
    proofs: ProofRunner = run_proofs,
) -> StepMutants:
    """Generate ``step``'s mutants and run each through its checks on the server at ``url``.

    Args:
        jobs: passed on to ``proofs``.
        cap: at most this many mutants (declared equivalents come on top).
        on_mutant: called with (mutants judged so far, mutants in all) as results arrive.
        proofs: runs the check runs (default: ``checking.proofs.run_proofs``).
    """
    started = time.perf_counter()
    try:
        generated = generate(step.solution.read_text(encoding="utf-8"))
    except SyntaxError as error:
        return StepMutants(step, error=f"solution.py does not parse: {error}")
    declared, problems, notes = _declarations(step, generated.mutants)
    mutants = select(generated.mutants, cap, frozenset(declared))
    base = StepMutants(
        step,
        generated=len(generated.mutants),
        discarded=generated.discarded,
        problems=tuple(problems),
        notes=tuple(notes),
    )

    # Mutants are wrong code: whatever keys they leave behind go when the step is done.
    with stray_keys_removed(url):
        reference = proofs([(step, step.solution)], url, jobs=jobs)[0]
        if not reference.passed:
            return replace(
                base,
                error="the reference solution fails its checks: {}: {}".format(*_why(reference)),
                seconds=time.perf_counter() - started,
            )
        limit = min(
            step.time_limit_seconds,
            max(MIN_TIME_LIMIT_SECONDS, TIME_LIMIT_FACTOR * reference.duration_ms / 1000),
        )
        # Fastest checks first: most mutants fall to a cheap check before the slow ones run.
        ordered = sorted(reference.checks, key=lambda check: check.duration_ms)
        # The job says which checks run, in this order, and that a run stops at the first
        # failure: a mutant is rejected once one check fails, the rest would only cost time.
        fastest_first = CheckSelection(
            only=tuple(check.id for check in ordered), stop_at_first_failure=True
        )

        with tempfile.TemporaryDirectory(prefix="workshop-mutants-") as scratch:
            folder = Path(scratch)
            # The same step, with the mutants' time limit.
            judged = replace(step, time_limit_seconds=limit)
            files: list[tuple[Step, Path]] = [(judged, step.solution)]
            for index, mutant in enumerate(mutants):
                path = folder / f"mutant_{index:03d}" / step.exercise_filename
                path.parent.mkdir()
                path.write_text(mutant.source, encoding="utf-8")
                files.append((judged, path))

            done = 0

            def progress(index: int, _: StepResult) -> None:
                nonlocal done
                if index and on_mutant is not None:
                    done += 1
                    on_mutant(done, len(mutants))

            results = proofs(files, url, jobs=jobs, on_result=progress, selection=fastest_first)
        _require_server(url)

    if not results[0].passed:
        return replace(
            base,
            error=(
                "the reference solution fails when its checks run fastest first and stop at "
                "the first failure (do the checks depend on their order?): {}: {}".format(
                    *_why(results[0])
                )
            ),
            seconds=time.perf_counter() - started,
            time_limit_seconds=limit,
        )
    judged_results = []
    for mutant, result in zip(mutants, results[1:], strict=True):
        judged_results.append(_judge(mutant, result, declared.get(mutant.id), limit))
        if result.passed or mutant.id not in declared:
            continue
        killed_by, detail = _why(result, limit)
        problems.append(
            DeclarationProblem(
                mutant.id,
                f"declared equivalent, but check {killed_by} rejects it ({detail.rstrip('.')}): "
                "either the checks reject a right answer or the declaration is wrong",
            )
        )
    return replace(
        base,
        results=tuple(judged_results),
        problems=tuple(problems),
        seconds=time.perf_counter() - started,
        time_limit_seconds=limit,
    )


def _declarations(
    step: Step, mutants: Sequence[Mutant]
) -> tuple[dict[str, EquivalentMutant], list[DeclarationProblem], list[str]]:
    """The declarations by the id of the mutant each one matches; the stale ones; notes."""
    current = {mutant.id for mutant in mutants}
    declared: dict[str, EquivalentMutant] = {}
    problems: list[DeclarationProblem] = []
    notes: list[str] = []
    for entry in step.equivalent_mutants:
        if entry.id in current:
            declared[entry.id] = entry
        else:
            problems.append(
                DeclarationProblem(
                    entry.id,
                    "stale: no mutant has this id any more (remove or update the declaration)",
                )
            )
    return declared, problems, notes


def _require_server(url: str) -> None:
    """A server that stopped during the run fails every check, which would pass for killed
    mutants: make that an error instead of a verdict."""
    client = valkey.Valkey.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except valkey.ValkeyError as error:
        raise ServerError(
            f"The server stopped answering during the mutation run ({error}); "
            "its results are discarded."
        ) from error
    finally:
        client.close()


def _judge(
    mutant: Mutant, result: StepResult, declared: EquivalentMutant | None, limit: float
) -> MutantResult:
    seconds = result.duration_ms / 1000
    if result.passed:
        if declared is not None:
            return MutantResult(mutant, "equivalent", None, declared.why, seconds)
        return MutantResult(mutant, "survived", None, "every check passes", seconds)
    killed_by, detail = _why(result, limit)
    return MutantResult(mutant, "killed", killed_by, detail, seconds)


def _why(result: StepResult, limit: float | None = None) -> tuple[str, str]:
    """(the check that failed first, or why none did; its message's first line)."""
    failures = result.failures
    if failures:
        first = failures[0]
        lines = first.message.strip().splitlines()
        return first.id, lines[0] if lines else "failed"
    problem = (result.problem or "no checks ran").strip().splitlines()[0]
    if limit is not None and result.duration_ms >= limit * 1000 * 0.98:
        return TIME_LIMIT, problem
    return CRASHED, problem
