"""``workshop class serve|board|export`` (trainer) and ``workshop join|leave`` (learner)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
import valkey

from valkey_workshop import naming
from valkey_workshop.classroom import board as boards
from valkey_workshop.classroom.config import DEFAULT_LISTEN, ClassConfig, JoinCode, class_dir
from valkey_workshop.classroom.membership import ClassPublisher, validate_name
from valkey_workshop.classroom.serve import describe, serve_class
from valkey_workshop.cli.common import (
    ImageOption,
    NetworkOption,
    UrlOption,
    WorkdirOption,
    fail,
    guarded,
)
from valkey_workshop.content.loader import load_module
from valkey_workshop.errors import ServerError, UsageError, WorkshopError
from valkey_workshop.render import out_console
from valkey_workshop.render.board import board_page, board_view, live_board, page_rows
from valkey_workshop.render.console import message, status
from valkey_workshop.session.workdir import resolve_workdir
from valkey_workshop.words import plural

class_app = typer.Typer(
    help="Run a class: a class server learners publish to, and a live board.",
    no_args_is_help=True,
)

ClassDirOption = Annotated[
    Path | None,
    typer.Option(
        "--class-dir",
        help="The class's folder (class.json, data) [env: WORKSHOP_CLASS_DIR; "
        "default: ./workshop-class]",
        show_default=False,
    ),
]


@class_app.command("serve")
def serve_command(
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            help=f"HOST:PORT the class server listens on [default: {DEFAULT_LISTEN}; a LAN "
            "address only when you give one]",
            show_default=False,
        ),
    ] = None,
    advertise: Annotated[
        str | None,
        typer.Option("--advertise", help="The address learners reach (for --listen 0.0.0.0:PORT)"),
    ] = None,
    module: Annotated[
        str | None,
        typer.Option(
            "--module",
            help="The module the class follows [default: the first module on the course roots]",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option("--backend", help="embedded | local | docker | url (an existing server)"),
    ] = "embedded",
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    folder: ClassDirOption = None,
) -> None:
    """Start the class server (ACL users, no default user) and print the join line."""
    loaded = guarded(partial(load_module, module or naming.example_module()))
    chosen_backend = "url" if url and backend == "embedded" else backend
    try:
        with serve_class(
            class_dir(folder),
            listen=listen,
            advertise=advertise,
            module=loaded.id,
            backend=chosen_backend,
            url=url,
            image=image,
            network=docker_network,
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
                status("Class server stopped; its events stay in the class folder.")
    except WorkshopError as error:
        raise fail(str(error)) from None


def _open_board(folder: Path, stuck_minutes: float) -> tuple[boards.ClassBoard, valkey.Valkey]:
    config = ClassConfig.load(folder)
    if config is None:
        raise UsageError(f"No class in {folder}: start one with `{naming.program()} class serve`.")
    module = load_module(config.module)
    board = boards.ClassBoard(config, module, boards.check_names(module), stuck_minutes)
    client = valkey.Valkey.from_url(config.trainer_url(), socket_timeout=3)
    try:
        board.refresh(client)
    except (valkey.ConnectionError, valkey.TimeoutError) as error:
        client.close()
        raise ServerError(
            f"The class server of {folder} is not answering ({error}); is "
            f"`{naming.program()} class serve` running?"
        ) from error
    except valkey.AuthenticationError as error:
        client.close()
        raise ServerError(f"The class server refused the trainer's password ({error}).") from error
    return board, client


StuckOption = Annotated[
    float,
    typer.Option("--stuck-minutes", min=0.0, help="Failing one step this long counts as stuck"),
]


@class_app.command("board")
def board_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one snapshot and exit")] = False,
    stuck_minutes: StuckOption = boards.DEFAULT_STUCK_MINUTES,
    folder: ClassDirOption = None,
) -> None:
    """The live board: learners by steps, the checks failing most, who is stuck."""
    board, client = guarded(partial(_open_board, class_dir(folder), stuck_minutes))
    try:
        if as_json:
            sys.stdout.write(json.dumps(board.snapshot().to_json(), indent=2) + "\n")
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
                page = board_page()
                update(board_view(snapshot, page_rows(console), page, silent_since))
                time.sleep(1.0)
    except KeyboardInterrupt:
        return
    finally:
        client.close()


@class_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV file [default: stdout]")
    ] = None,
    folder: ClassDirOption = None,
) -> None:
    """The board as CSV: one row per learner and step with a result."""
    board, client = guarded(partial(_open_board, class_dir(folder), boards.DEFAULT_STUCK_MINUTES))
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
    code: Annotated[str, typer.Argument(help="The join code the trainer shows")],
    name: Annotated[str, typer.Option("--name", help="Your name on the trainer's board")],
    workdir: WorkdirOption = None,
) -> None:
    """Join a class: your check results (never your code) go to the trainer's board."""
    parsed = guarded(partial(JoinCode.decode, code))
    shown = guarded(partial(validate_name, name))
    publisher = ClassPublisher(resolve_workdir(workdir))
    guarded(partial(publisher.join, parsed, shown))
    message(
        f"Joined class {parsed.class_id} as {shown!r}. Each check now sends: your name, the "
        "step, each check's pass or fail, attempts, time and hints; never code, passwords or "
        f"paths. `{naming.program()} leave` stops it."
    )


def leave_command(workdir: WorkdirOption = None) -> None:
    """Stop publishing check results to a class."""
    left = ClassPublisher(resolve_workdir(workdir)).leave()
    if left is None:
        message("This workdir is not in a class.")
        return
    membership, unsent = left
    dropped = (
        f" {plural(unsent, 'result')} the class server never received "
        f"{'was' if unsent == 1 else 'were'} dropped."
        if unsent
        else ""
    )
    message(f"Left class {membership.class_id}; nothing more is sent.{dropped}")


def class_progress(folder: Path | None) -> Callable[[int], str | None] | None:
    """For the presenter: a function giving ``step 02: 18/25 passed`` when a class is served
    from ``folder``; None when there is no class there."""
    try:
        config = ClassConfig.load(class_dir(folder))
    except UsageError:
        return None
    if config is None:
        return None
    board = boards.ClassBoard(config, load_module(config.module))

    def line(number: int) -> str | None:
        client = valkey.Valkey.from_url(
            config.trainer_url(), socket_timeout=0.5, socket_connect_timeout=0.5
        )
        try:
            board.refresh(client)
        except valkey.ValkeyError:
            return None  # the class server is down: the presenter shows nothing, no error
        finally:
            client.close()
        return board.snapshot().step_line(number)

    return line
