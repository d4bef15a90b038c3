"""``workshop check``: the learner's files checked, each result recorded in the progress file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from valkey_workshop.checking.guarded import guarded_checks, lane_server, step_result_of
from valkey_workshop.checking.proofs import Proof, SpareServer, run_tasks
from valkey_workshop.checking.results import CheckReport, StepResult
from valkey_workshop.classroom.membership import ClassPublisher, step_payload
from valkey_workshop.content.models import Module, Step
from valkey_workshop.content.requirements import server_lacks
from valkey_workshop.results.check import CheckOutcome
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import RUNS_LEARNER_CODE, GuardedRun, guard_for
from valkey_workshop.session.progress import ProgressFileError, StepProgress
from valkey_workshop.session.workdir import Workdir

__all__ = ["CheckOutcome", "check_steps"]


def check_steps(
    module: Module,
    steps: tuple[Step, ...],
    workdir: Workdir,
    server: ServerInfo,
    time_limit_seconds: float | None = None,
    restart_stopped: bool = False,
    *,
    jobs: int | None = 1,
    spare_server: SpareServer | None = None,
    on_result: Callable[[int, StepResult], None] | None = None,
) -> CheckOutcome:
    """Check the learner's files for ``steps`` and record each result in the progress file.

    Every run goes through the server guard: a step that changes server-wide state is not run
    on a server holding others' data, settings are put back after each run, and a server that
    stops ends the checking (the step is reported as not run; nothing is recorded for it). With
    ``restart_stopped`` (the guided session) our own server is then started again.

    Steps run up to ``jobs`` at once (None = CPU count; see ``checking.proofs``), each under
    its lane's guard; results are taken in step order, and checking ends at the first step
    whose server stopped. Each result is recorded in one locked transaction. A progress file
    that cannot be written does not cost the verdict: the results come back with
    ``progress_error`` set.
    """
    created = tuple(workdir.prepare(module))
    results: list[StepResult] = []
    notices: list[str] = []
    stopped: str | None = None
    payloads = []
    progress_error = None
    lacks = server_lacks(server.url)
    # Learner code may run anything (FLUSHALL, CONFIG SET maxmemory): on a server holding
    # someone else's keys no step runs, whatever it is (a server we did not start is its
    # owner's, and we never lose its data).
    guard = guard_for(server)
    # A step needing a command this server lacks is not applicable here: reported as not run,
    # with the reason, and never handed to the checker (nor recorded: not the learner's fault).
    not_applicable: dict[int, StepResult] = {}
    runnable: list[Step] = []
    refusals = guard.refuse_steps(steps, why=RUNS_LEARNER_CODE)
    for index, (step, refusal) in enumerate(zip(steps, refusals, strict=True)):
        if step.problem is not None:
            # A broken step is one row that says what is wrong; the other steps run.
            not_applicable[index] = StepResult(
                step.number, step.slug, step.title, workdir.exercise_path(step), (),
                not_run=f"Step {step.label} cannot be checked: {step.problem}",
            )  # fmt: skip
            continue
        if refusal is not None:
            not_applicable[index] = StepResult(
                step.number, step.slug, step.title, workdir.exercise_path(step), (),
                not_run=refusal.message,
            )  # fmt: skip
            continue
        if gap := lacks(step.requires):
            reason = (
                f"Step {step.label} is not applicable on this server: {gap}. Check it on the "
                "embedded server instead (--backend embedded)."
            )
            exercise = workdir.exercise_path(step)
            not_applicable[index] = StepResult(
                step.number, step.slug, step.title, exercise, (), not_run=reason
            )
        else:
            runnable.append(step)
    proofs = [
        Proof(
            step,
            _lane_check(
                step,
                workdir.exercise_path(step),
                server,
                time_limit_seconds,
                restart_stopped,
                private_lanes=spare_server is not None,
            ),
        )
        for step in runnable
    ]

    def finished(index: int, run: GuardedRun[StepResult]) -> None:
        if on_result is not None:
            step = runnable[index]
            on_result(steps.index(step), step_result_of(step, workdir.exercise_path(step), run))

    runs = iter(
        run_tasks(proofs, server.url, jobs=jobs, on_result=finished, spare_server=spare_server)
    )
    for index, step in enumerate(steps):
        if index in not_applicable:
            results.append(not_applicable[index])
            continue
        run = next(runs)
        if restart_stopped or not run.aftermath.stopped:
            notices.extend(run.aftermath.messages())  # else ``server_stopped`` says it, once
        result = step_result_of(step, workdir.exercise_path(step), run)
        results.append(result)
        if run.aftermath.stopped:
            stopped = (
                f"The server stopped during the checks of step {step.label} "
                f"({run.aftermath.why_stopped}). Does the exercise shut it down or pause it? "
                "Nothing was recorded for this step."
            )
            break
        if result.not_run is not None or progress_error is not None:
            continue  # nothing to record (or it cannot be saved): nothing to publish either
        entry, progress_error = _record_check(module, step, workdir, result)
        if entry is None:
            continue
        payloads.append(
            step_payload(
                kind="check",
                module=module.id,
                number=step.number,
                slug=step.slug,
                passed=result.passed,
                checks=[(check.id, check.passed) for check in result.checks],
                attempt=entry.attempts,
                seconds=entry.seconds_spent,
                hints=entry.hints_revealed,
                backend=server.backend,
                server_version=server.version,
            )
        )
    report = CheckReport(module.id, server.backend, server.version, tuple(results))
    published = ClassPublisher(workdir.root).publish(payloads)
    warnings = tuple(workdir.progress.warnings)
    return CheckOutcome(
        report,
        created,
        warnings,
        published,
        tuple(dict.fromkeys(notices)),
        stopped,
        progress_error,
    )


def _record_check(
    module: Module, step: Step, workdir: Workdir, result: StepResult
) -> tuple[StepProgress | None, str | None]:
    """Record one result (one transaction): the step's progress after it, or why it could
    not be saved."""
    try:
        with workdir.progress.update() as progress:
            entry = progress.record_check(module.id, step.slug, result.passed)
            entry.remember_calls(
                [(call.args, call.latency_us) for check in result.checks for call in check.calls]
            )
    except ProgressFileError as error:
        return None, str(error)
    return entry, None


def _lane_check(
    step: Step,
    exercise: Path,
    server: ServerInfo,
    time_limit_seconds: float | None,
    restart_stopped: bool,
    *,
    private_lanes: bool,
) -> Callable[[str], GuardedRun[StepResult]]:
    """One guarded check run of ``exercise`` on whichever lane ``run_tasks`` gives it."""

    def run(url: str) -> GuardedRun[StepResult]:
        lane = lane_server(server, url, private=private_lanes)
        # Only the session's own server is restarted; a private lane ends with the command.
        restart = restart_stopped and lane is server
        return guarded_checks(step, exercise, lane, time_limit_seconds, restart)

    return run
