"""Options shared by the commands that talk to Valkey, and the error boundary."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from valkey_workshop.content.loader import load_module
from valkey_workshop.content.models import Module
from valkey_workshop.errors import WorkshopError
from valkey_workshop.render.console import status
from valkey_workshop.render.views import backend_line
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.resolve import BackendChoice, choose_backend, open_backend
from valkey_workshop.session.workdir import Workdir, resolve_workdir

BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="auto | docker | embedded | local | url  [env: WORKSHOP_BACKEND; default: auto]",
        show_default=False,
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="An existing server (valkey://, valkeys://); implies --backend url [env: VALKEY_URL]",
        show_default=False,
    ),
]
ImageOption = Annotated[
    str | None,
    typer.Option(
        "--image",
        help="Container image for the docker backend [env: WORKSHOP_IMAGE]",
        show_default=False,
    ),
]
NetworkOption = Annotated[
    str | None,
    typer.Option(
        "--docker-network",
        help="bridge | host: how the docker backend's container is reached "
        "[env: WORKSHOP_DOCKER_NETWORK; default: bridge]",
        show_default=False,
    ),
]
WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        help="Exercise files and progress [env: WORKSHOP_WORKDIR; default: ./workshop-labs]",
        show_default=False,
    ),
]

T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    status(f"Error: {message}")
    return typer.Exit(2)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a :class:`WorkshopError` becomes one line on stderr and exit code 2."""
    try:
        return action()
    except WorkshopError as error:
        raise fail(str(error)) from None


def module_and_workdir(module_id: str, workdir: Path | None) -> tuple[Module, Workdir]:
    return guarded(lambda: load_module(module_id)), Workdir(resolve_workdir(workdir))


@contextmanager
def live_server(
    backend: str | None,
    url: str | None,
    image: str | None,
    network: str | None = None,
    quiet: bool = False,
) -> Iterator[tuple[BackendChoice, ServerInfo]]:
    """Choose a backend (saying which and why, on stderr), start it, stop it on every exit."""
    choice = guarded(lambda: choose_backend(backend, url, image=image))
    server = guarded(lambda: open_backend(choice, image=image, network=network))
    info = guarded(server.__enter__)  # a server that fails to start has stopped itself
    try:
        if not quiet:
            status(backend_line(choice, info))
        yield choice, info
    except KeyboardInterrupt:
        server.stop()
        status("Interrupted; the server was stopped.")
        raise
    finally:
        server.stop()


def require_terminal(command: str, alternative: str) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise fail(f"`workshop {command}` needs a terminal. In scripts and CI use {alternative}.")
