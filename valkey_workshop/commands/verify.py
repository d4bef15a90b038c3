"""``workshop verify``: the content proves itself.

Starters fail, reference solutions pass, known-wrong answers fail for the declared reason,
accepted styles pass, demos run headless. Every proof is independent, so they run at once
(``checking.proofs``); the findings come back in a fixed order whatever the finishing order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from valkey_workshop.checking.proofs import Proof, SpareServer, default_jobs, run_tasks
from valkey_workshop.checking.results import StepResult
from valkey_workshop.checking.runner import run_step_checks
from valkey_workshop.content.models import AcceptedAnswer, Module, Step, WrongAnswer
from valkey_workshop.demo import DemoEvent, DemoOutcome, run_demo
from valkey_workshop.errors import WorkshopError
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.words import plural

#: Database latency when demos run headless (``verify``): the demo still shows a slow store.
QUICK_DEMO_DB_LATENCY = 0.05


@dataclass(frozen=True)
class VerifyFinding:
    """One thing ``verify`` proved or disproved about a step's content."""

    step: Step
    subject: str
    ok: bool
    detail: str


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
    proofs = [proof for step in steps for proof in step_proofs(step)]
    done = 0

    def finished(_: int, finding: VerifyFinding) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(finding, done, len(proofs))

    findings = run_tasks(
        proofs, server.url, jobs=jobs, on_result=finished, spare_server=spare_server
    )
    used = max(1, min(jobs or default_jobs(), len(proofs) or 1))
    return VerifyReport(
        module.id, server, tuple(findings), time.perf_counter() - started, jobs=used
    )


def proof_count(steps: tuple[Step, ...]) -> int:
    """How many proofs ``verify`` runs for ``steps`` (for a progress display)."""
    return sum(len(step_proofs(step)) for step in steps)


def verify_step(step: Step, server: ServerInfo) -> list[VerifyFinding]:
    """Every proof of one step, one after another on ``server``."""
    return run_tasks(step_proofs(step), server.url, jobs=1)


def step_proofs(step: Step) -> list[Proof[VerifyFinding]]:
    """The proofs of one step, in the order their findings are listed."""
    proofs: list[Proof[VerifyFinding]] = [
        Proof(step, lambda url: _starter_fails(step, url)),
        Proof(step, lambda url: _solution_passes(step, url)),
    ]
    proofs += [Proof(step, _rejects(step, wrong)) for wrong in step.wrong_answers]
    proofs += [Proof(step, _accepts(step, accepted)) for accepted in step.accepted_answers]
    proofs.append(Proof(step, lambda url: _demo_runs(step, url)))
    return proofs


def _starter_fails(step: Step, url: str) -> VerifyFinding:
    starter = run_step_checks(step, step.starter, url)
    detail = failure_summary(starter) if not starter.passed else "the untouched starter passes"
    return VerifyFinding(step, "starter fails", not starter.passed, detail)


def _solution_passes(step: Step, url: str) -> VerifyFinding:
    solution = run_step_checks(step, step.solution, url)
    detail = f"{len(solution.checks)} checks pass" if solution.passed else failure_summary(solution)
    return VerifyFinding(step, "solution passes", solution.passed, detail)


def _rejects(step: Step, wrong: WrongAnswer) -> Callable[[str], VerifyFinding]:
    def prove(url: str) -> VerifyFinding:
        result = run_step_checks(step, wrong.file, url)
        target = next((c for c in result.checks if c.id == wrong.fails), None)
        if result.passed:
            ok, detail = False, "passes every check"
        elif target is None:
            ok, detail = False, f"check {wrong.fails!r} did not run: {failure_summary(result)}"
        elif target.passed:
            ok, detail = False, f"check {wrong.fails!r} passed; failed: {failure_summary(result)}"
        elif wrong.says.lower() not in target.message.lower():
            ok, detail = False, f"message lacks {wrong.says!r}: {target.message}"
        else:
            ok, detail = True, target.message.splitlines()[0]
        return VerifyFinding(step, f"rejects: {wrong.about}", ok, detail)

    return prove


def _accepts(step: Step, accepted: AcceptedAnswer) -> Callable[[str], VerifyFinding]:
    def prove(url: str) -> VerifyFinding:
        result = run_step_checks(step, accepted.file, url)
        detail = "passes" if result.passed else failure_summary(result)
        return VerifyFinding(step, f"accepts: {accepted.about}", result.passed, detail)

    return prove


def _demo_runs(step: Step, url: str) -> VerifyFinding:
    try:
        outcome = run_demo_headless(step, url)
    except WorkshopError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken demo is a finding, not a crash
        return VerifyFinding(step, "demo runs", False, f"{type(error).__name__}: {error}")
    detail = f"{plural(outcome.round_trips, 'round trip')}, {outcome.seconds:.2f} s"
    return VerifyFinding(step, "demo runs", True, detail)


def run_demo_headless(step: Step, url: str) -> DemoOutcome:
    """Run ``step``'s demo with nobody watching (events are collected and dropped)."""
    events: list[DemoEvent] = []
    return run_demo(step, url, events.append, db_latency=QUICK_DEMO_DB_LATENCY, quick=True)


def demo_headless(step: Step, server: ServerInfo) -> DemoOutcome:
    return run_demo_headless(step, server.url)


def failure_summary(result: StepResult) -> str:
    """One line on why a step failed: its problem, or its first failed check."""
    if result.problem:
        return result.problem.splitlines()[0]
    failed = result.failures
    if not failed:
        return "no checks ran"
    first = failed[0]
    return f"{len(failed)} failed; first: {first.name}: {first.message.splitlines()[0]}"
