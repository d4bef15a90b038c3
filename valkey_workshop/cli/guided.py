"""The key loop of ``workshop start``: shows what the guided session returns, reads one key."""

from __future__ import annotations

import typer

from valkey_workshop.content.models import Module, Step
from valkey_workshop.demo import run_demo
from valkey_workshop.errors import WorkshopError
from valkey_workshop.render import out_console, views
from valkey_workshop.render.console import message
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.resolve import BackendChoice
from valkey_workshop.session.guided import CHECK, DEMO, HINT, NEXT, QUIT, SOLUTION, GuidedSession
from valkey_workshop.session.workdir import Workdir

#: The slow database in live demos, as the course text has it.
DEMO_DB_LATENCY_SECONDS = 1.5


def run_guided(
    module: Module, workdir: Workdir, choice: BackendChoice, info: ServerInfo, first: Step | None
) -> None:
    console = out_console()
    session = GuidedSession(module, workdir, info, first)
    console.print(views.banner(module, info, choice))
    if session.warning:
        message(f"Warning: {session.warning}")
    if session.resumed:
        message(f"Welcome back: resuming at step {session.step.label}.")
    while True:
        _present(session)
        if not _step_loop(session):
            return
        if not session.advance():
            console.print("That was the last step. Well done!")
            return


def _present(session: GuidedSession) -> None:
    console = out_console()
    step = session.step
    console.print(views.step_header(session.module, step))
    console.print(views.lesson_view(session.lesson()))
    _demo(session)
    message(f"\nYour exercise: {session.exercise}")
    message("Edit it in your editor, then press c to check it.")


def _demo(session: GuidedSession) -> None:
    console = out_console()
    console.print()
    console.print(views.subheading("Live demo"))
    try:
        run_demo(
            session.step, session.server.url, views.demo_sink(console), DEMO_DB_LATENCY_SECONDS
        )
    except WorkshopError as error:
        message(f"The demo could not run: {error}")


def _step_loop(session: GuidedSession) -> bool:
    """Handle keys for the current step; False means quit."""
    console = out_console()
    while True:
        actions = session.actions()
        console.print(views.actions_bar([(a.key, a.label) for a in actions]))
        key = typer.getchar().lower()
        if key in ("\x03", "\x04"):  # Ctrl-C / Ctrl-D in raw mode
            key = QUIT.key
        if key == CHECK.key:
            console.print("Checking…")
            result = session.check()
            console.print(views.step_result_view(result, session.module.id))
            if result.passed:
                console.print("Step passed. Press n for the next step, or s to compare solutions.")
        elif key == HINT.key:
            console.print(views.hint_view(session.hint()))
        elif key == DEMO.key:
            _demo(session)
        elif key == SOLUTION.key and SOLUTION in actions:
            console.print(views.solution_view(session.solution()))
        elif key == NEXT.key and NEXT in actions:
            return True
        elif key == QUIT.key:
            console.print(
                f"Bye. Your files are in {session.workdir.root}; "
                f"`workshop start {session.module.id}` resumes here."
            )
            return False
        else:
            message(f"Unknown key {key!r}.")
