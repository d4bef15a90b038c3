"""``workshop verify``: the content proves itself.

Starters fail, reference solutions pass, known-wrong answers fail for the declared reason,
accepted styles pass, demos run headless. Every proof is independent, so they run at once
(``checking.proofs``); the findings come back in a fixed order whatever the finishing order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from valkey_workshop.checking.guarded import guarded_checks, lane_server, step_result_of
from valkey_workshop.checking.lint import step_problems
from valkey_workshop.checking.proofs import Proof, SpareServer, default_jobs, run_tasks
from valkey_workshop.checking.protocol import CheckSelection
from valkey_workshop.checking.results import StepResult
from valkey_workshop.commands.demo import run_step_demo
from valkey_workshop.content.models import AcceptedAnswer, Module, Step, WrongAnswer
from valkey_workshop.content.requirements import server_lacks
from valkey_workshop.demo import DemoEvent, DemoOutcome
from valkey_workshop.errors import ServerError, WorkshopError
from valkey_workshop.results.verify import VerifyFinding, VerifyReport
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import guard_for
from valkey_workshop.words import plural

#: Database latency when demos run headless (``verify``): the demo still shows a slow store.
QUICK_DEMO_DB_LATENCY = 0.05


#: Called as each proof finishes: (the finding, proofs done, proofs in all).
VerifyProgress = Callable[[VerifyFinding, int, int], None]


def spare_server_for(server: ServerInfo) -> SpareServer | None:
    """Private servers for parallel lanes where they are cheap: the embedded (and local)
    backend starts one in about 0.1 s, the same binary as the session's. Docker and ``--url``
    servers share theirs (separate databases)."""
    if server.backend == "embedded":
        from valkey_workshop.server.embedded import EmbeddedBackend  # noqa: PLC0415 - only here

        return EmbeddedBackend
    if server.backend == "local":
        from valkey_workshop.server.local import LocalBackend  # noqa: PLC0415 - only here

        return LocalBackend
    return None


def verify_module(
    module: Module,
    steps: tuple[Step, ...],
    server: ServerInfo,
    *,
    jobs: int | None = None,
    spare_server: SpareServer | None = None,
    on_progress: VerifyProgress | None = None,
) -> VerifyReport:
    """Prove the content of ``steps``, up to ``jobs`` proofs at once (default: CPU count).

    ``spare_server`` starts private servers for further lanes (see ``checking.proofs``); pass
    :func:`spare_server_for` ``(server)`` for the usual choice.
    """
    started = time.perf_counter()
    findings = _findings(steps, server, jobs, spare_server, on_progress)
    used = max(1, min(jobs or default_jobs(), len(findings) or 1))
    return VerifyReport(
        module.id, server, tuple(findings), time.perf_counter() - started, jobs=used
    )


def _findings(
    steps: tuple[Step, ...],
    server: ServerInfo,
    jobs: int | None,
    spare_server: SpareServer | None,
    on_progress: VerifyProgress | None,
) -> list[VerifyFinding]:
    lane = _lanes(server, private=spare_server is not None)
    lacks = server_lacks(server.url)
    # The findings in order: a proof's index, or a finding known without running anything
    # (a step refused on this server, or not applicable to it).
    order: list[int | VerifyFinding] = []
    proofs: list[Proof[VerifyFinding]] = []
    # Known-wrong answers may do anything (one empties its database): prove content only on a
    # server that holds nothing but the workshop's keys.
    refusals = guard_for(server).refuse_steps(steps)
    for step, refusal in zip(steps, refusals, strict=True):
        if step.problem is not None:
            # One failed row for a half-written step; the other steps' proofs still run.
            order.append(VerifyFinding(step, "step files", False, step.problem))
            continue
        if refusal is not None:
            order.append(
                VerifyFinding(step, "runs on this server", False, refusal.message, refused=True)
            )
            continue
        if gap := lacks(step.requires):
            order.append(_not_applicable(step, "not applicable", gap))
            continue
        problems = step_problems(step)
        order += [
            VerifyFinding(step, "content: " + problem.where, False, problem.problem)
            for problem in problems
        ]
        if any(problem.stops_checks for problem in problems):
            continue  # nothing to prove with checks that cannot run; the finding says why
        for proof in step_proofs(step, lane, lacks):
            if isinstance(proof, VerifyFinding):
                order.append(proof)
                continue
            order.append(len(proofs))
            proofs.append(proof)
    done = 0

    def finished(_: int, finding: VerifyFinding) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(finding, done, len(proofs))

    proved = run_tasks(proofs, server.url, jobs=jobs, on_result=finished, spare_server=spare_server)
    return [proved[item] if isinstance(item, int) else item for item in order]


def proof_count(steps: tuple[Step, ...]) -> int:
    """How many proofs ``verify`` may run for ``steps`` (for a progress display): starter,
    solution, each wrong and accepted answer, and the demo."""
    return sum(3 + len(step.wrong_answers) + len(step.accepted_answers) for step in steps)


def _not_applicable(step: Step, subject: str, gap: str) -> VerifyFinding:
    return VerifyFinding(step, subject, True, f"not applicable: {gap}", applicable=False)


def verify_step(step: Step, server: ServerInfo) -> list[VerifyFinding]:
    """Every proof of one step, one after another on ``server``."""
    return _findings((step,), server, 1, None, None)


#: The server behind a proof lane's URL (see :func:`checking.guarded.lane_server`).
Lane = Callable[[str], ServerInfo]


def _lanes(server: ServerInfo, *, private: bool) -> Lane:
    return lambda url: lane_server(server, url, private=private)


#: A proof's weight (:class:`Proof`) when it runs all of a step's checks, or its demo: a
#: known-wrong answer's proof runs the one check it is declared to fail (weight 1). Measured
#: on module3: whole-step proofs took 0.3-1.1 s each, single-check ones mostly under 0.1 s.
WHOLE_STEP = 10.0


def step_proofs(
    step: Step, lane: Lane, lacks: Callable[[tuple[str, ...]], str | None]
) -> list[Proof[VerifyFinding] | VerifyFinding]:
    """The proofs of one step, in the order their findings are listed; an answer needing a
    command this server lacks is a "not applicable" finding in its place."""
    proofs: list[Proof[VerifyFinding] | VerifyFinding] = [
        Proof(step, lambda url: _starter_fails(step, lane(url)), WHOLE_STEP),
        Proof(step, lambda url: _solution_passes(step, lane(url)), WHOLE_STEP),
    ]
    for wrong in step.wrong_answers:
        gap = lacks(wrong.requires)
        subject = f"rejects: {wrong.about}"
        proofs.append(
            _not_applicable(step, subject, gap) if gap else Proof(step, _rejects(step, wrong, lane))
        )
    for accepted in step.accepted_answers:
        gap = lacks(accepted.requires)
        subject = f"accepts: {accepted.about}"
        proofs.append(
            _not_applicable(step, subject, gap)
            if gap
            else Proof(step, _accepts(step, accepted, lane), WHOLE_STEP)
        )
    proofs.append(Proof(step, lambda url: _demo_runs(step, lane(url)), WHOLE_STEP))
    return proofs


def _checked(step: Step, exercise: Path, server: ServerInfo) -> StepResult:
    """One proof's check run, under the lane's server guard (never restarted: a stopped
    server makes this proof fail, with the reason)."""
    return step_result_of(step, exercise, guarded_checks(step, exercise, server, None, False))


def _starter_fails(step: Step, server: ServerInfo) -> VerifyFinding:
    starter = _checked(step, step.starter, server)
    detail = failure_summary(starter) if not starter.passed else "the untouched starter passes"
    return VerifyFinding(step, "starter fails", not starter.passed, detail)


def _solution_passes(step: Step, server: ServerInfo) -> VerifyFinding:
    solution = _checked(step, step.solution, server)
    detail = f"{len(solution.checks)} checks pass" if solution.passed else failure_summary(solution)
    return VerifyFinding(step, "solution passes", solution.passed, detail)


def _checked_alone(step: Step, exercise: Path, server: ServerInfo, check_id: str) -> StepResult:
    """A check run of ``exercise`` with only the check ``check_id`` (the checks are
    independent of each other: the mutation run orders them freely too)."""
    alone = CheckSelection(only=(check_id,))
    run = guarded_checks(step, exercise, server, None, False, selection=alone)
    return step_result_of(step, exercise, run)


def _rejects(step: Step, wrong: WrongAnswer, lane: Lane) -> Callable[[str], VerifyFinding]:
    def prove(url: str) -> VerifyFinding:
        server = lane(url)
        # The proof needs only the declared check; the other checks would cost time (step
        # 09's each wait for a slow database). When that check alone does not reject the
        # answer as declared, the whole step runs, so the finding names what did fail.
        ok, detail = _judge(_checked_alone(step, wrong.file, server, wrong.fails), wrong)
        if not ok:
            ok, detail = _judge(_checked(step, wrong.file, server), wrong)
        return VerifyFinding(step, f"rejects: {wrong.about}", ok, detail)

    return prove


def _judge(result: StepResult, wrong: WrongAnswer) -> tuple[bool, str]:
    """Whether ``result`` rejects ``wrong`` as it declares, and the detail to show."""
    target = next((c for c in result.checks if c.id == wrong.fails), None)
    if result.passed:
        return False, "passes every check"
    if target is None:
        return False, f"check {wrong.fails!r} did not run: {failure_summary(result)}"
    if target.passed:
        return False, f"check {wrong.fails!r} passed; failed: {failure_summary(result)}"
    if wrong.says.lower() not in target.message.lower():
        return False, f"message lacks {wrong.says!r}: {target.message}"
    return True, target.message.splitlines()[0]


def _accepts(step: Step, accepted: AcceptedAnswer, lane: Lane) -> Callable[[str], VerifyFinding]:
    def prove(url: str) -> VerifyFinding:
        result = _checked(step, accepted.file, lane(url))
        detail = "passes" if result.passed else failure_summary(result)
        return VerifyFinding(step, f"accepts: {accepted.about}", result.passed, detail)

    return prove


def _demo_runs(step: Step, server: ServerInfo) -> VerifyFinding:
    try:
        outcome = demo_headless(step, server)
    except WorkshopError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken demo is a finding, not a crash
        return VerifyFinding(step, "demo runs", False, f"{type(error).__name__}: {error}")
    detail = f"{plural(outcome.round_trips, 'round trip')}, {outcome.seconds:.2f} s"
    return VerifyFinding(step, "demo runs", True, detail)


def demo_headless(step: Step, server: ServerInfo) -> DemoOutcome:
    """``step``'s demo with nobody watching (its events are collected and dropped), under the
    server guard, through the demo runner every session uses.

    Raises:
        ServerError: the guard refused the step on this server, or the server stopped.
        Exception: whatever the demo itself raised.
    """
    events: list[DemoEvent] = []
    run = run_step_demo(step, server, events.append, db_latency=QUICK_DEMO_DB_LATENCY, quick=True)
    if run.failure is not None:
        raise run.failure
    if run.refusal is not None:
        raise ServerError(run.refusal)
    if run.stopped is not None or run.outcome is None:
        raise ServerError(f"The server stopped during the demo ({run.stopped or ''}).")
    return run.outcome


def failure_summary(result: StepResult) -> str:
    """One line on why a step failed: its problem, or its first failed check."""
    if result.not_run:
        return f"not run: {result.not_run.splitlines()[0]}"
    if result.problem:
        return result.problem.splitlines()[0]
    failed = result.failures
    if not failed:
        return "no checks ran"
    first = failed[0]
    return f"{len(failed)} failed; first: {first.name}: {first.message.splitlines()[0]}"
