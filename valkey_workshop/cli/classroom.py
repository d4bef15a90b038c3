"""``workshop class serve|board|export|say|clear|end`` (trainer) and ``workshop join|leave|
help-me`` (learner). Parsing and rendering only: the use cases are in :mod:`valkey_workshop.
classroom`, imported when a command runs (``workshop --help`` and a Tab press load no class
server, no membership and no renderer)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from valkey_workshop import naming
from valkey_workshop.cli.common import (
    ImageOption,
    NetworkOption,
    QuickGroup,
    WorkdirOption,
    WorkshopCommand,
    fail,
    write_json,
)
from valkey_workshop.cli.completion import (
    CLASS_BACKENDS,
    choices_metavar,
    complete_choice,
    complete_module,
)
from valkey_workshop.content.loader import load_module

#: ``classroom.config``'s variables and default address (a test keeps them the same): named
#: here so that ``--help`` and a Tab press import no class code.
ADMIN_URL_ENV = "WORKSHOP_CLASS_ADMIN_URL"
ADMIN_PASSWORD_ENV = "WORKSHOP_CLASS_ADMIN_PASSWORD"  # noqa: S105 - a variable's name
DEFAULT_LISTEN = "127.0.0.1:6390"

#: The board's thresholds (``classroom.board``'s defaults; a test keeps them the same): named
#: here so that ``--help`` and a Tab press import no board code (and no Valkey client).
DEFAULT_STUCK_MINUTES = 10.0
DEFAULT_IDLE_MINUTES = 5.0

class_app = typer.Typer(
    cls=QuickGroup,
    help="Run a class: a class server learners publish to, and a live board.",
    short_help="Run a class: a class server and a live board.",
    no_args_is_help=True,
)

ClassDirOption = Annotated[
    Path | None,
    typer.Option(
        "--class-dir",
        metavar="DIR",
        help="The class's folder (class.json, data) [env: WORKSHOP_CLASS_DIR; "
        "default: ./workshop-class]",
        show_default=False,
    ),
]
AdminUrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        envvar=ADMIN_URL_ENV,
        help="An existing server's admin URL, WITHOUT its password on the command line: "
        f"valkeys://admin@host:6380 (password from ${ADMIN_PASSWORD_ENV} or a prompt), or "
        f"the whole URL in ${ADMIN_URL_ENV}",
        show_default=False,
    ),
]


def class_dir(folder: Path | None) -> Path:
    """``classroom.config.class_dir``, imported on use."""
    from valkey_workshop.classroom import config  # noqa: PLC0415 - on use (constants above)

    return config.class_dir(folder)


def _admin_url(url: str | None, from_command_line: bool) -> str | None:
    """The admin URL with its password, which never comes from the command line."""
    from valkey_workshop.classroom.config import url_password, with_password  # noqa: PLC0415

    if url is None:
        return None
    if url_password(url) is not None:
        if from_command_line:
            raise fail(
                "--url carries a password, and a command line is readable by every user of "
                f"this machine while the class runs. Put the URL in ${ADMIN_URL_ENV}, or give "
                f"it without the password and set ${ADMIN_PASSWORD_ENV} (or type it at the "
                "prompt)."
            )
        return url
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise fail(f"--url has no password: set ${ADMIN_PASSWORD_ENV} (or run in a terminal).")
        password = typer.prompt("Admin password", hide_input=True)
    return with_password(url, password)


def _from_command_line(context: typer.Context, name: str) -> bool:
    source = context.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


@class_app.command("serve", cls=WorkshopCommand)
def serve_command(
    context: typer.Context,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            metavar="HOST:PORT",
            help=f"HOST:PORT the class server listens on [default: {DEFAULT_LISTEN}; a LAN "
            "address only when you give one]",
            show_default=False,
        ),
    ] = None,
    advertise: Annotated[
        str | None,
        typer.Option(
            "--advertise",
            metavar="HOST",
            help="The address learners reach (for --listen 0.0.0.0:PORT)",
        ),
    ] = None,
    module: Annotated[
        str | None,
        typer.Option(
            "--module",
            metavar="MODULE",
            autocompletion=complete_module,
            help="The module the class follows [default: {{module}}]",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            metavar=choices_metavar(CLASS_BACKENDS),
            help="Where the class server runs (url: an existing server)",
            autocompletion=complete_choice(CLASS_BACKENDS),
        ),
    ] = "embedded",
    url: AdminUrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    max_learners: Annotated[
        int | None,
        typer.Option(
            "--max-learners",
            metavar="N",
            help="Seats in the class; joins beyond are refused [default: 250; at most 300]",
            show_default=False,
        ),
    ] = None,
    folder: ClassDirOption = None,
) -> None:
    """Start the class server and print the line learners join with.

    Per-class ACL users, no default user, a memory cap, and a relay that validates every event.

    \b
    Examples:
      workshop class serve
      workshop class serve --listen 0.0.0.0:6390 --advertise 192.168.1.20
    """
    from valkey_workshop.classroom.serve import describe, serve_class  # noqa: PLC0415 - on use
    from valkey_workshop.render.console import message, status  # noqa: PLC0415

    loaded = load_module(module or naming.example_module())
    url = _admin_url(url, _from_command_line(context, "url"))
    chosen_backend = "url" if url and backend == "embedded" else backend
    # A WorkshopError (a port in use, a server that will not start) goes to the one error
    # path, the CLI's ErrorBoundary: one line, exit 2.
    with serve_class(
        class_dir(folder),
        listen=listen,
        advertise=advertise,
        module=loaded.id,
        backend=chosen_backend,
        url=url,
        image=image,
        network=docker_network,
        max_learners=max_learners,
    ) as served:
        for warning in served.warnings:
            status(f"Note: {warning}")
        status(describe(served) + (" (resumed)" if served.resumed else ""))
        message(served.join_line)
        board = f"{naming.program()} class board" + (f" --class-dir {folder}" if folder else "")
        status(f"Learners run the line above. The board: {board}. Ctrl-C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            status(
                "Class server stopped; its events stay in the class folder"
                + ("; `workshop class end` removes its users." if url else ".")
            )


StuckOption = Annotated[
    float,
    typer.Option(
        "--stuck-minutes",
        metavar="MINUTES",
        min=0.0,
        help="Failing one step this long counts as stuck",
    ),
]
IdleOption = Annotated[
    float,
    typer.Option(
        "--idle-minutes", metavar="MINUTES", min=0.0, help="No check this long counts as idle"
    ),
]


@class_app.command("board", cls=WorkshopCommand)
def board_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one snapshot and exit")] = False,
    learner: Annotated[
        str | None,
        typer.Option(
            "--learner", metavar="NAME", help="One learner's steps, times and failing checks"
        ),
    ] = None,
    stuck_minutes: StuckOption = DEFAULT_STUCK_MINUTES,
    idle_minutes: IdleOption = DEFAULT_IDLE_MINUTES,
    folder: ClassDirOption = None,
) -> None:
    """The live board: where each learner is, raised hands, who is stuck.

    For how long each learner has been on a step, and the checks failing most.

    \b
    Examples:
      workshop class board
      workshop class board --learner ada --json
    """
    import valkey  # noqa: PLC0415 - on use (module docstring)

    from valkey_workshop.classroom import board as boards  # noqa: PLC0415
    from valkey_workshop.classroom import trainer  # noqa: PLC0415
    from valkey_workshop.render import out_console  # noqa: PLC0415
    from valkey_workshop.render.board import (  # noqa: PLC0415
        board_height,
        board_page,
        board_view,
        learner_view,
        live_board,
    )
    from valkey_workshop.results.envelope import json_document  # noqa: PLC0415

    board, client = trainer.open_board(class_dir(folder), stuck_minutes, idle_minutes)
    try:
        if learner is not None:
            snapshot = board.snapshot()
            rows = snapshot.find(learner)
            if not rows:
                raise fail(f"No learner called {learner!r} in this class.")
            if as_json:
                chosen = [boards.row_json(row) for row in rows]
                write_json(json_document("class board --learner", {"rows": chosen}))
            else:
                out_console().print(learner_view(rows, snapshot, board.check_names))
            return
        if as_json or client is None:  # an ended class: its final board, once
            if as_json:
                write_json(json_document("class board", board.snapshot().to_json()))
            else:
                out_console().print(board_view(board.snapshot()))
            return
        console = out_console()
        silent_since: str | None = None
        with live_board() as update:
            while True:
                try:
                    board.refresh(client)
                    silent_since = None
                except (valkey.ConnectionError, valkey.TimeoutError):
                    # A class server that restarts: keep the last board, say so, try again.
                    silent_since = silent_since or time.strftime("%H:%M:%S")
                snapshot = board.snapshot()
                update(
                    board_view(
                        snapshot,
                        page=board_page(),
                        silent_since=silent_since,
                        height=board_height(console),
                    )
                )
                time.sleep(1.0)
    except KeyboardInterrupt:
        return
    finally:
        if client is not None:
            client.close()


@class_app.command("say", cls=WorkshopCommand)
def say_command(
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="What every learner's next check shows")
    ],
    folder: ClassDirOption = None,
) -> None:
    """Tell the room something: it shows in every learner's session.

    In start, watch and check alike.

    \b
    Examples:
      workshop class say "Break until 11:00"
    """
    from valkey_workshop.classroom import trainer  # noqa: PLC0415 - on use (module docstring)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    shown = trainer.say(class_dir(folder), text)
    message(f"Said to the class: {shown}")


@class_app.command("clear", cls=WorkshopCommand)
def clear_command(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Whose hand to lower (the name the board shows)")
    ],
    folder: ClassDirOption = None,
) -> None:
    """Lower a learner's raised hand on the board.

    \b
    Examples:
      workshop class clear ada
    """
    from valkey_workshop.classroom import trainer  # noqa: PLC0415 - on use (module docstring)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    names = trainer.clear_hand(class_dir(folder), name)
    message(f"Hand lowered: {', '.join(names)}.")


@class_app.command("remove", cls=WorkshopCommand)
def remove_command(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="Whom to remove (the name the board shows, or id)"),
    ],
    folder: ClassDirOption = None,
) -> None:
    """Remove a learner (a fake one, or one who left) from the class.

    Their user goes, their seat is free, their row leaves the board.

    \b
    Examples:
      workshop class remove "Ada L."
    """
    from valkey_workshop.classroom import trainer  # noqa: PLC0415 - on use (module docstring)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    names = trainer.remove_learner(class_dir(folder), name)
    message(f"Removed: {', '.join(names)} (the class server deletes their users).")


@class_app.command("end", cls=WorkshopCommand)
def end_command(
    folder: ClassDirOption = None,
) -> None:
    """End the class: remove its users and inboxes from its server.

    A class on an existing server reads the admin URL from $WORKSHOP_CLASS_ADMIN_URL (or the
    class's URL with $WORKSHOP_CLASS_ADMIN_PASSWORD), never from the command line.

    \b
    Examples:
      workshop class end
      workshop class end --class-dir ./monday-class
    """
    from valkey_workshop.classroom.serve import end_class  # noqa: PLC0415 - on use (docstring)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    admin = os.environ.get(ADMIN_URL_ENV) or os.environ.get(ADMIN_PASSWORD_ENV)
    ended = end_class(class_dir(folder), admin)
    message(
        f"Class ended: {ended.users} users and {ended.keys} working keys removed; the final "
        f"board is kept in {ended.record} (`{naming.program()} class board --json` and "
        f"`{naming.program()} class export` read it)."
    )


@class_app.command("export", cls=WorkshopCommand)
def export_command(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="CSV file [default: stdout]"),
    ] = None,
    folder: ClassDirOption = None,
) -> None:
    """The board as CSV: one row per learner and step with a result.

    \b
    Examples:
      workshop class export -o class.csv
    """
    from valkey_workshop.classroom import trainer  # noqa: PLC0415 - on use (module docstring)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    board, client = trainer.open_board(class_dir(folder))
    if client is not None:
        client.close()
    text = board.snapshot().to_csv()
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise fail(f"Cannot write {output}: {error.strerror}.") from None
    message(f"Wrote {output}.")


def join_command(
    code: Annotated[str, typer.Argument(metavar="CODE", help="The join code the trainer shows")],
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="Your name on the trainer's board")
    ],
    workdir: WorkdirOption = None,
) -> None:
    """Join a class: your check results go to the trainer's board.

    Never your code, and never a password.

    \b
    Examples:
      workshop join CODE --name ada
    """
    from valkey_workshop.classroom.config import JoinCode  # noqa: PLC0415 - on use
    from valkey_workshop.classroom.membership import (  # noqa: PLC0415 - on use (docstring)
        ClassPublisher,
        validate_name,
    )
    from valkey_workshop.render.console import message  # noqa: PLC0415
    from valkey_workshop.session.workdir import resolve_workdir  # noqa: PLC0415 - Tab

    parsed = JoinCode.decode(code)
    shown = validate_name(name)
    publisher = ClassPublisher(resolve_workdir(workdir))
    publisher.join(parsed, shown)
    message(
        f"Joined class {parsed.class_id} as {shown!r}. Each check now sends: your name, the "
        "step, each check's pass or fail, attempts, time and hints; never code, passwords or "
        f"paths. `{naming.program()} leave` stops it."
    )


def leave_command(workdir: WorkdirOption = None) -> None:
    """Stop publishing check results to a class.

    \b
    Examples:
      workshop leave
    """
    from valkey_workshop.classroom.membership import ClassPublisher  # noqa: PLC0415 - on use
    from valkey_workshop.render.console import message  # noqa: PLC0415
    from valkey_workshop.session.workdir import resolve_workdir  # noqa: PLC0415 - Tab

    left = ClassPublisher(resolve_workdir(workdir)).leave()
    if left is None:
        message("This workdir is not in a class.")
        return
    membership, queued = left
    if queued:
        message(
            f"Leaving class {membership.class_id}: its server is not answering, so the leave "
            "waits in the outbox and goes out (with any results before it) as soon as it "
            "answers; nothing new is sent."
        )
        return
    message(f"Left class {membership.class_id}; nothing more is sent.")


def help_me_command(workdir: WorkdirOption = None) -> None:
    """Raise a hand on the trainer's board; the trainer lowers it.

    \b
    Examples:
      workshop help-me
    """
    from valkey_workshop.classroom.membership import ClassPublisher  # noqa: PLC0415 - on use
    from valkey_workshop.render.console import message  # noqa: PLC0415
    from valkey_workshop.session.workdir import resolve_workdir  # noqa: PLC0415 - Tab

    publisher = ClassPublisher(resolve_workdir(workdir))
    outcome = publisher.publish([{"kind": "help"}])
    if outcome is None:
        raise fail("This workdir is not in a class: `workshop join CODE --name NAME` first.")
    if outcome.problem:
        message(
            f"Hand raised; it reaches the board once the class server answers ({outcome.problem})."
        )
        return
    message("Hand raised: the trainer sees it on the board.")


def class_progress(folder: Path | None) -> Callable[[int], str | None] | None:
    """For the presenter: ``step 02: 18/25 passed`` when a class is served from ``folder``."""
    from valkey_workshop.classroom import trainer  # noqa: PLC0415 - on use (module docstring)

    return trainer.class_progress(class_dir(folder))
