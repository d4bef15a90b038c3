"""The ``workshop`` commands (contract: shared/spec/cli.md): each parses its options, calls
its use case in :mod:`valkey_workshop.commands`, renders the result and exits with its code.

A command imports its use case and the views when it runs, not here: ``workshop --help`` and
a Tab press import no checking, server or class code (tests/unit/test_layers.py).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from valkey_workshop import naming
from valkey_workshop.cli.classroom import (
    ClassDirOption,
    class_app,
    class_progress,
    help_me_command,
    join_command,
    leave_command,
)
from valkey_workshop.cli.common import (
    BackendOption,
    ErrorBoundary,
    ImageOption,
    NetworkOption,
    UrlOption,
    WorkdirOption,
    WorkshopCommand,
    fail,
    finish,
    live_server,
    module_and_workdir,
    report_path,
    require_terminal,
    write_json,
    write_report,
)
from valkey_workshop.cli.completion import complete_module, complete_step
from valkey_workshop.cli.new import new_app
from valkey_workshop.cli.pack import pack_command
from valkey_workshop.cli.prompt import cli_command
from valkey_workshop.content.loader import available_modules, load_module
from valkey_workshop.version import workshop_version

if TYPE_CHECKING:
    from valkey_workshop.content.models import Module, Step
    from valkey_workshop.content.notes import TrainerNotes
    from valkey_workshop.session.workdir import Workdir

#: At most this many proofs at once (``checking.proofs.MAX_JOBS``; a test keeps the two the
#: same): named here so that ``--help`` imports no checking code.
MAX_JOBS = 16
#: Read by the runner as its default memory limit (``checking.runner.MEMORY_LIMIT_ENV``; a
#: test keeps the two the same): named here so that ``--help`` imports no checking code.
MEMORY_LIMIT_ENV = "WORKSHOP_MEMORY_LIMIT"
#: The variable that carries ``--seed`` to the runner, and the seeds' bound
#: (``checking.seeds``; a test keeps them the same): named here for the same reason.
SEED_VARIABLE = "WORKSHOP_CHECK_SEED"
SEED_LIMIT = 10**9


app = typer.Typer(
    name="workshop",
    help=(
        "Interactive Valkey labs in your terminal. Start with: "
        f"{naming.PROGRAM_MARK} start {naming.MODULE_MARK}"
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=ErrorBoundary,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"{naming.program()} {workshop_version()}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", is_eager=True, callback=_show_version, help="Show the version."
        ),
    ] = False,
) -> None:
    """Interactive Valkey labs in your terminal (the help is the app's, with its marks)."""


StepArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="STEP",
        help="Step number (2, 02) or slug; none = all steps",
        autocompletion=complete_step,
    ),
]
RequiredStep = Annotated[
    str,
    typer.Argument(
        metavar="STEP", help="Step number (2, 02) or slug", autocompletion=complete_step
    ),
]
ModuleArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODULE",
        help=f"Module id, e.g. {naming.MODULE_MARK} (`{naming.PROGRAM_MARK} list` shows all)",
        autocompletion=complete_module,
    ),
]
OptionalModule = Annotated[
    str | None,
    typer.Argument(
        metavar="MODULE", help="Module id; none = every module", autocompletion=complete_module
    ),
]


def _capped_jobs(context: typer.Context, jobs: int | None) -> int | None:
    """``-j`` above :data:`MAX_JOBS` runs at the cap and says so (one line on stderr): each
    further lane would start a server of its own for no gain."""
    if jobs is None or jobs <= MAX_JOBS:
        return jobs
    if not context.resilient_parsing:  # not while Tab completion parses the line
        from valkey_workshop.render.console import status

        status(f"-j {jobs} is more than {MAX_JOBS}; using {MAX_JOBS}")
    return MAX_JOBS


JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        min=1,
        callback=_capped_jobs,
        help=f"Proofs at once (default: the CPU count; more than {MAX_JOBS} runs {MAX_JOBS})",
    ),
]
MemoryLimitOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        metavar="SIZE",
        envvar=MEMORY_LIMIT_ENV,
        help="Memory for learner code, e.g. 512M, 2G [env: WORKSHOP_MEMORY_LIMIT; default: 1G]",
        show_default=False,
        show_envvar=False,
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        "--seed",
        metavar="N",
        min=0,
        max=SEED_LIMIT - 1,
        envvar=SEED_VARIABLE,
        help="Replay the generated scenarios of a run (its seed is in --json and in messages)",
        show_envvar=False,
    ),
]


def _apply_seed(seed: int | None) -> None:
    """Hand ``--seed`` to every check run of this command through the environment, which the
    runner reads (as with --memory-limit)."""
    if seed is not None:
        os.environ[SEED_VARIABLE] = str(seed)


def _apply_memory_limit(text: str | None) -> None:
    """Validate ``--memory-limit`` (exit 2 when it is not a size) and hand it to every check
    run of this command through the environment, which the runner reads as its default."""
    if text is None:
        return
    from valkey_workshop.checking.runner import parse_memory_limit

    try:
        size = parse_memory_limit(text)
    except ValueError as error:
        raise fail(f"--memory-limit: {error}") from None
    os.environ[MEMORY_LIMIT_ENV] = str(size)


JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout")]


@app.command("list", cls=WorkshopCommand)
def list_command(
    module: OptionalModule = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Modules, or one module's steps and their status.

    A step's status is read from the workdir's progress.

    \b
    Examples:
      workshop list
      workshop list module3 --json
    """
    from valkey_workshop.commands.summary import module_summary
    from valkey_workshop.render import out_console, views
    from valkey_workshop.results.status import ModuleSummary, modules_json

    if module is None:
        from valkey_workshop.content.loader import module_entries
        from valkey_workshop.content.roots import survey
        from valkey_workshop.render.console import status

        entries = module_entries()
        if as_json:
            write_json(modules_json(tuple(e.module for e in entries if e.module is not None)))
            return
        out_console().print(views.modules_view(entries))
        # One line per problem: a module in two places is one problem, shown on both rows.
        for problem in dict.fromkeys(entry.problem for entry in entries if entry.problem):
            status(f"Error: {problem}")
        for problem in survey().problems():
            status(f"Note: course root {problem}")
        return
    loaded, wd = module_and_workdir(module, workdir)
    summary = module_summary(loaded, wd)

    def show(summary: ModuleSummary = summary) -> None:
        if as_json:
            write_json(summary.to_json())
            return
        console = out_console()
        console.print(views.status_view(summary.status))
        if summary.shows_totals:
            console.print(views.summary_view(summary))

    finish(summary, show)


@app.command(cls=WorkshopCommand)
def check(
    module: ModuleArgument,
    step: StepArgument = None,
    backend: BackendOption = None,
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    junit_xml: Annotated[
        Path | None,
        typer.Option("--junit-xml", metavar="FILE", help="Also write a JUnit XML report here"),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            min=0.1,
            max=3600,
            help="Seconds per step (default: the step's, 30)",
        ),
    ] = None,
    jobs: JobsOption = None,
    memory_limit: MemoryLimitOption = None,
    seed: SeedOption = None,
) -> None:
    """Check your exercise files against a live server.

    Non-interactive, for scripts and CI: exit 0 when every check passes.

    \b
    Examples:
      workshop check module3
      workshop check module3 02 --json --junit-xml report.xml
    """
    from valkey_workshop.commands.check import check_steps
    from valkey_workshop.commands.verify import spare_server_for
    from valkey_workshop.render import out_console, views
    from valkey_workshop.render.progress import proof_progress

    _apply_memory_limit(memory_limit)
    _apply_seed(seed)
    loaded, wd = module_and_workdir(module, workdir)
    steps = loaded.select(step)
    junit_xml = report_path(junit_xml, "--junit-xml", wd)
    with (
        live_server(backend, url, image, docker_network) as (_, info),
        proof_progress(len(steps), f"check {loaded.id}") as advance,
    ):
        outcome = check_steps(
            loaded,
            steps,
            wd,
            info,
            time_limit,
            jobs=jobs,
            spare_server=spare_server_for(info),
            on_result=lambda _, result: advance(
                f"{result.number:02d} {result.slug}", result.passed
            ),
        )

    def show() -> None:
        if junit_xml is not None:
            write_report(junit_xml, outcome.report.to_junit_xml(), "--junit-xml")
        if as_json:
            write_json(outcome.to_json())
        else:
            out_console().print(views.check_report_view(outcome.report))

    finish(outcome, show)


@app.command(cls=WorkshopCommand)
def hint(
    module: ModuleArgument,
    step: RequiredStep,
    number: Annotated[
        int | None,
        typer.Argument(
            metavar="N", help="Show this hint (a failed check names the one that helps)"
        ),
    ] = None,
    workdir: WorkdirOption = None,
) -> None:
    """The next hint for a step (one at a time, remembered), or hint N.

    \b
    Examples:
      workshop hint module3 02
      workshop hint module3 cache-aside 2
    """
    from valkey_workshop.commands.hint import reveal_hint
    from valkey_workshop.render import out_console, views

    loaded, wd = module_and_workdir(module, workdir)
    reveal = reveal_hint(loaded, loaded.step(step), wd, number)
    finish(reveal, lambda: out_console().print(views.hint_view(reveal)))


@app.command(cls=WorkshopCommand)
def solution(
    module: ModuleArgument,
    step: RequiredStep,
    workdir: WorkdirOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Show it before the step has passed")
    ] = False,
) -> None:
    """A step's reference solution, once passed (or with --force).

    \b
    Examples:
      workshop solution module3 02
      workshop solution module3 cache-aside --force
    """
    from valkey_workshop.commands.solution import solution_for
    from valkey_workshop.render import out_console, views

    loaded, wd = module_and_workdir(module, workdir)
    view = solution_for(loaded, loaded.step(step), wd, force)
    console = out_console()
    finish(view, lambda: console.print(views.solution_view(view, console.width)))


@app.command(cls=WorkshopCommand)
def reset(
    module: ModuleArgument,
    step: StepArgument = None,
    workdir: WorkdirOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Reset a whole module without asking")
    ] = False,
) -> None:
    """Restore starter files; each replaced file is backed up first.

    Every replaced file is kept beside it with a timestamp.

    \b
    Examples:
      workshop reset module3 02
      workshop reset module3 --yes
    """
    import sys

    from valkey_workshop.commands.reset import reset_steps
    from valkey_workshop.render import out_console, views

    loaded, wd = module_and_workdir(module, workdir)
    steps = loaded.select(step)
    if step is None and not yes:
        if not sys.stdin.isatty():
            raise fail(f"Resetting every step of {module} needs --yes (no terminal to ask).")
        if not typer.confirm(
            f"Restore all {len(steps)} starters of {module}? Your files are backed up."
        ):
            raise typer.Exit(1)
    report = reset_steps(loaded, steps, wd)
    finish(report, lambda: out_console().print(views.reset_view(report.outcomes)))


@app.command(cls=WorkshopCommand)
def verify(
    module: OptionalModule = None,
    step: StepArgument = None,
    backend: BackendOption = None,
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    jobs: JobsOption = None,
    memory_limit: MemoryLimitOption = None,
    mutants: Annotated[
        bool,
        typer.Option(
            "--mutants",
            help="Mutation-test the checks: every mutant of each reference solution must fail "
            "a check or be declared equivalent in step.toml",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --mutants: one JSON document on stdout")
    ] = False,
    seed: SeedOption = None,
) -> None:
    """Prove the content: starters fail, solutions pass, demos run.

    Every known-wrong answer is rejected with the message its step declares.

    \b
    Examples:
      workshop verify module3
      workshop verify module3 02 --mutants --json
    """
    from valkey_workshop.cli.mutants import run_verify_mutants
    from valkey_workshop.commands import verify as verifying
    from valkey_workshop.render import out_console, views
    from valkey_workshop.render.progress import proof_progress

    _apply_memory_limit(memory_limit)
    _apply_seed(seed)
    if mutants or as_json:
        if not mutants:
            raise fail(
                f"--json goes with --mutants: {naming.program()} verify "
                f"{module or naming.example_module()} --mutants --json"
            )
        run_verify_mutants(
            module, step, backend, url, image, docker_network, as_json=as_json, jobs=jobs
        )
    names = [module] if module else list(available_modules())
    modules = [load_module(name) for name in names]
    selections = [(loaded, loaded.select(step)) for loaded in modules]
    exit_code = 0
    from valkey_workshop.render.console import status

    for loaded in modules:
        for folder in loaded.unlisted_step_folders():
            status(
                f"Note: {folder} is not listed in {loaded.root / 'module.toml'} ([[steps]]): "
                "nothing runs or verifies it."
            )
    with live_server(backend, url, image, docker_network) as (_, info):
        for loaded, steps in selections:
            total = verifying.proof_count(steps)
            with proof_progress(total, f"verify {loaded.id}") as advance:
                report = verifying.verify_module(
                    loaded,
                    steps,
                    info,
                    jobs=jobs,
                    spare_server=verifying.spare_server_for(info),
                    on_progress=lambda f, _done, _total: advance(
                        f"{f.step.label}: {f.subject}", f.ok
                    ),
                )
            out_console().print(views.verify_view(report))
            exit_code = max(exit_code, report.exit_code)
    raise typer.Exit(exit_code)


@app.command(cls=WorkshopCommand)
def doctor(
    image: ImageOption = None,
    pull: Annotated[
        bool, typer.Option("--pull", help="Pull the docker backend's image now (before a workshop)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pre-flight: Python, packages, Docker, servers, auto's choice.

    \b
    Examples:
      workshop doctor
      workshop doctor --pull --json
    """
    from valkey_workshop.commands.doctor import doctor as run_doctor
    from valkey_workshop.commands.image import pull_image
    from valkey_workshop.render import out_console, views

    if pull:
        views.show_pull(pull_image(image))
    report = run_doctor(image)
    if as_json:
        finish(report, lambda: write_json(report.to_json()))
    finish(report, lambda: out_console().print(views.doctor_view(report)))


StartStepArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="STEP",
        help="Start at this step (default: resume where you left off)",
        autocompletion=complete_step,
    ),
]
StartStepOption = Annotated[
    str | None,
    typer.Option(
        "--step",
        metavar="STEP",
        help="Start at this step (the same as the argument)",
        autocompletion=complete_step,
    ),
]


#: Stands in for ``--check-on-save/--no-check-on-save`` (README's table of variables).
CHECK_ON_SAVE_ENV = "WORKSHOP_CHECK_ON_SAVE"
CheckOnSaveOption = Annotated[
    bool,
    typer.Option(
        "--check-on-save/--no-check-on-save",
        envvar=CHECK_ON_SAVE_ENV,
        help="Check the exercise each time you save it; the key w turns it off and on "
        "[env: WORKSHOP_CHECK_ON_SAVE; default: on]",
        show_default=False,
        show_envvar=False,
    ),
]


def _first_step(
    command: str, module: Module, workdir: Workdir, argument: str | None, option: str | None
) -> Step | None:
    """The step to start at: the argument or --step (both forms work), else where the
    learner left off; with every step done, say so and how to revisit one, and stop."""
    if argument is not None and option is not None and argument != option:
        raise fail(f"Give the step once: {argument!r} or --step {option!r}.")
    from valkey_workshop.commands.listing import module_status
    from valkey_workshop.render.console import message

    chosen = argument if argument is not None else option
    if chosen is not None:
        return module.step(chosen)
    if module_status(module, workdir).next_step is None:
        message(
            f"Every step of {module.id} is passed or skipped. To revisit one: "
            f"`{naming.program()} {command} {module.id} --step 02` (a number or a slug)."
        )
        raise typer.Exit(0)
    return None


def _usable_steps(module: Module, chosen: str | None) -> Module:
    """The module without its broken steps (each named in one line); exit 2 when the step
    asked for is broken, or every step is."""
    if chosen is not None:
        picked = module.step(chosen)
        if picked.problem is not None:
            raise fail(f"Step {picked.label} of {module.id} is broken: {picked.problem}")
    from valkey_workshop.render.console import status

    for broken in module.broken_steps:
        status(f"Note: step {broken.label} is left out, it is broken: {broken.problem}")
    usable = module.without_broken_steps()
    if not usable.steps:
        raise fail(f"Every step of {module.id} is broken; `{naming.program()} list {module.id}`.")
    return usable


@app.command(cls=WorkshopCommand)
def start(
    module: ModuleArgument,
    step_argument: StartStepArgument = None,
    step: StartStepOption = None,
    backend: BackendOption = None,
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    workdir: WorkdirOption = None,
    memory_limit: MemoryLimitOption = None,
    check_on_save: CheckOnSaveOption = True,
) -> None:
    """The guided session: lesson, demo, exercise, checks and hints.

    It resumes where you left off, and checks your exercise each time you save it.

    \b
    Examples:
      workshop start module3
      workshop start module3 --step cache-aside --no-check-on-save
    """
    from valkey_workshop.interactive.learner import run_start

    _apply_memory_limit(memory_limit)
    require_terminal(
        "start",
        f"`{naming.program()} check {module}` (or `{naming.program()} demo {module} --no-pause`)",
    )
    loaded, wd = module_and_workdir(module, workdir)
    loaded = _usable_steps(loaded, step_argument or step)
    first = _first_step("start", loaded, wd, step_argument, step)
    with live_server(backend, url, image, docker_network, quiet=True) as (choice, info):
        run_start(loaded, wd, choice, info, first, check_on_save=check_on_save)


@app.command(cls=WorkshopCommand)
def watch(
    module: ModuleArgument,
    step_argument: StartStepArgument = None,
    step: StartStepOption = None,
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll for changes (WSL, network drives, containers)")
    ] = False,
    backend: BackendOption = None,
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    workdir: WorkdirOption = None,
    memory_limit: MemoryLimitOption = None,
) -> None:
    """Re-check your exercise every time you save it.

    It moves on to the next step only when you ask (n).

    \b
    Examples:
      workshop watch module3
      workshop watch module3 02 --poll
    """
    from valkey_workshop.interactive.learner import run_watch
    from valkey_workshop.render import views
    from valkey_workshop.render.console import status

    _apply_memory_limit(memory_limit)
    require_terminal("watch", f"`{naming.program()} check {module}`")
    loaded, wd = module_and_workdir(module, workdir)
    first = _first_step("watch", loaded, wd, step_argument, step)
    with live_server(backend, url, image, docker_network, quiet=True) as (choice, info):
        status(views.backend_line(choice, info), wrap=True)
        run_watch(loaded, wd, info, first, poll)


@app.command(cls=WorkshopCommand)
def skip(module: ModuleArgument, step: RequiredStep, workdir: WorkdirOption = None) -> None:
    """Mark a step skipped (not passed); start and watch go past it.

    \b
    Examples:
      workshop skip module3 02
    """
    from valkey_workshop.commands.skip import skip_step

    loaded, wd = module_and_workdir(module, workdir)
    finish(skip_step(loaded, loaded.step(step), wd))


@app.command(cls=WorkshopCommand)
def demo(
    module: ModuleArgument,
    step: StepArgument = None,
    no_pause: Annotated[
        bool, typer.Option("--no-pause", help="Run every step unattended; exit 0 if every demo ran")
    ] = False,
    notes: Annotated[
        bool, typer.Option("--notes", help="Show the trainer notes with each step")
    ] = False,
    rtt: Annotated[
        str | None,
        typer.Option(
            "--rtt",
            metavar="TIME",
            help="Simulate a network round trip between client and server, e.g. 1ms",
        ),
    ] = None,
    db_latency: Annotated[
        float,
        typer.Option(
            "--db-latency", metavar="SECONDS", min=0.0, max=10.0, help="Seconds per database call"
        ),
    ] = 1.5,
    backend: BackendOption = None,
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    class_folder: ClassDirOption = None,
) -> None:
    """Presenter mode: each step's lesson and live demo, with pauses.

    \b
    Examples:
      workshop demo module3 --notes
      workshop demo module3 02 --rtt 1ms --no-pause
    """
    from valkey_workshop.interactive.presenter import PresenterLoop
    from valkey_workshop.render.console import status
    from valkey_workshop.server.latency_proxy import parse_rtt, simulated_network

    if not no_pause:
        require_terminal("demo", f"`{naming.program()} demo {module} --no-pause`")
    loaded = load_module(module)
    steps = loaded.select(step)
    rtt_seconds = parse_rtt(rtt) if rtt is not None else None
    trainer_notes = _optional_notes(loaded.id)
    with (
        live_server(backend, url, image, docker_network) as (_, info),
        simulated_network(info.url, rtt_seconds) as network,
    ):
        loop = PresenterLoop(loaded, steps, info, trainer_notes, network, db_latency)
        loop.class_line = class_progress(class_folder)
        if class_folder is not None and loop.class_line is None:
            status(f"Note: no class is served from {class_folder}; no class progress is shown.")
        if no_pause:
            loop.unattended(notes)
        else:
            loop.paused(notes)
    finish(loop.outcome())


def _optional_notes(module_id: str) -> TrainerNotes | None:
    from valkey_workshop.content.notes import load_notes
    from valkey_workshop.errors import WorkshopError

    try:
        return load_notes(module_id)
    except WorkshopError:
        return None


@app.command("notes", cls=WorkshopCommand)
def notes_command(
    module: ModuleArgument,
    step: Annotated[
        str | None,
        typer.Argument(
            metavar="STEP", help="One step's notes; none = all", autocompletion=complete_step
        ),
    ] = None,
) -> None:
    """The trainer notes: timing plan, talking points, where to pause.

    \b
    Examples:
      workshop notes module3
      workshop notes module3 02
    """
    from valkey_workshop.content.notes import load_notes
    from valkey_workshop.render import out_console, views
    from valkey_workshop.render.console import paged

    loaded = load_module(module)
    trainer_notes = load_notes(loaded.id)
    if step is None:
        console = out_console()
        with paged(console):  # 450 lines: a pager on a terminal, never into a pipe
            console.print(views.lesson_view(trainer_notes.text))
        return
    chosen = loaded.step(step)
    text = trainer_notes.for_step(chosen.number)
    if text is None:
        raise fail(f"The trainer notes of {module} have no section for step {chosen.label}.")
    out_console().print(views.notes_view(text, f"Trainer notes · {chosen.label}"))


app.command("pack", cls=WorkshopCommand)(pack_command)
app.command("cli", cls=WorkshopCommand)(cli_command)
app.add_typer(class_app, name="class")
app.add_typer(new_app, name="new")
app.command("join", cls=WorkshopCommand)(join_command)
app.command("leave", cls=WorkshopCommand)(leave_command)
app.command("help-me", cls=WorkshopCommand)(help_me_command)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM and SIGHUP unwind like Ctrl-C, so every `with` block stops its server.
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the ``workshop`` console script."""
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _exit_on_signal)
    # Typer turns Ctrl-C into exit code 130; live_server has stopped the server by then.
    app(prog_name=naming.program())
