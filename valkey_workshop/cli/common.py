"""Options shared by the commands that talk to Valkey, the error boundary, and how a use
case's result ends a command (:func:`finish`).

Light on purpose: ``workshop --help`` and a Tab press import this module, so servers and the
renderer's views are imported only when a command runs.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from valkey_workshop import naming
from valkey_workshop.cli.completion import (
    BACKENDS,
    NETWORKS,
    choices_metavar,
    complete_choice,
)
from valkey_workshop.cli.stopping import stopping
from valkey_workshop.content.loader import load_module
from valkey_workshop.errors import UsageError, WorkshopError

if TYPE_CHECKING:
    from valkey_workshop.content.models import Module
    from valkey_workshop.results.envelope import Outcome
    from valkey_workshop.server.base import ServerInfo
    from valkey_workshop.server.resolve import BackendChoice
    from valkey_workshop.session.workdir import Workdir

BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        metavar=choices_metavar(BACKENDS),
        help="Where the server runs [env: WORKSHOP_BACKEND; default: auto]",
        show_default=False,
        autocompletion=complete_choice(BACKENDS),
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help="An existing server (valkey://, valkeys://); implies --backend url [env: VALKEY_URL]",
        show_default=False,
    ),
]
#: A container image reference: [registry[:port]/]name[/name...][:tag][@digest] (the grammar
#: of distribution/reference, without IPv6 registries).
_IMAGE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?"
)


def checked_image(value: str | None) -> str | None:
    """``--image`` (or ``$WORKSHOP_IMAGE``) when it is a valid image reference; the engine
    would answer an invalid one with an HTTP error."""
    for given, source in ((value, "--image"), (os.environ.get("WORKSHOP_IMAGE"), "WORKSHOP_IMAGE")):
        if given is None:
            continue
        if not _IMAGE.fullmatch(given):
            raise typer.BadParameter(
                f"{given!r} from {source} is not an image reference, e.g. valkey/valkey:9.1.2."
            )
        return value
    return value


ImageOption = Annotated[
    str | None,
    typer.Option(
        "--image",
        metavar="IMAGE",
        help="Container image for the docker backend [env: WORKSHOP_IMAGE]",
        show_default=False,
        callback=checked_image,
    ),
]
NetworkOption = Annotated[
    str | None,
    typer.Option(
        "--docker-network",
        metavar=choices_metavar(NETWORKS),
        help="How the docker backend's container is reached "
        "[env: WORKSHOP_DOCKER_NETWORK; default: bridge]",
        show_default=False,
        autocompletion=complete_choice(NETWORKS),
    ),
]
WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        metavar="DIR",
        help="Exercise files and progress [env: WORKSHOP_WORKDIR; default: ./workshop-labs]",
        show_default=False,
    ),
]

T = TypeVar("T")


def fail(message: str) -> UsageError:
    """The error to raise for bad input the CLI itself finds: :class:`ErrorBoundary` says it
    in one line on stderr and exits 2, like every :class:`WorkshopError`."""
    return UsageError(message)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``. Kept for callers of this round: a :class:`WorkshopError` it raises
    needs no catching here, the :class:`ErrorBoundary` turns every one into exit code 2."""
    return action()


def module_and_workdir(module_id: str, workdir: Path | None) -> tuple[Module, Workdir]:
    from valkey_workshop.session.workdir import Workdir, resolve_workdir  # noqa: PLC0415 - Tab

    return load_module(module_id), Workdir(resolve_workdir(workdir))


def finish(outcome: Outcome, show: Callable[[], None] | None = None) -> NoReturn:
    """End a command with a use case's result: its messages meant for before the main output,
    the main output (``show``), the rest of its messages, then its exit code."""
    from valkey_workshop.render.messages import say  # noqa: PLC0415 - on use (module docstring)

    say(outcome.messages, "before")
    if show is not None:
        show()
    say(outcome.messages, "after")
    raise typer.Exit(outcome.exit_code)


def report_path(path: Path | None, option: str, workdir: Workdir | None = None) -> Path | None:
    """``path`` when a report can be written there; checked before any work is done.

    Raises:
        typer.Exit: (2) the path is a folder, its folder cannot be made, or it would replace
            a learner's file (an exercise, a backup, the progress file) in ``workdir``.
    """
    if path is None:
        return None
    if workdir is not None and _learner_file(path, workdir):
        raise fail(
            f"{option} {path} would overwrite a file of yours in {workdir.root}; write the "
            "report elsewhere, e.g. report.xml."
        )
    if path.is_dir():
        raise fail(f"{option} {path} is a folder; name a file, e.g. {path / 'report.xml'}.")
    try:
        for folder in path.parents:
            if folder.exists() and not folder.is_dir():
                raise fail(f"{option} {path}: {folder} is a file, not a folder.")
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"{option} {path}: cannot make its folder: {error.strerror or error}.") from None
    return path


def _learner_file(path: Path, workdir: Workdir) -> bool:
    """Whether ``path`` is an existing file of the learner's workdir, or any ``.py`` or
    progress file in it (a report never replaces what the learner wrote)."""
    try:
        target = path.expanduser().resolve()
        root = workdir.root.resolve()
    except (OSError, RuntimeError):
        return False
    if not target.is_relative_to(root):
        return False
    return target.exists() or target.suffix == ".py" or target.name.startswith(".workshop")


def write_report(path: Path, text: str, option: str) -> None:
    """Write a report file; a failure is one line and exit 2."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise fail(f"{option} {path} could not be written: {error.strerror or error}.") from None


def write_json(document: dict[str, Any]) -> None:
    """One JSON document on stdout (a use case's ``to_json()``: the envelope of
    docs/json-format.md)."""
    import json  # noqa: PLC0415 - on use (module docstring)

    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def describe_os_error(error: OSError) -> str:
    """One line for an operating-system error nothing more specific caught."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}."


def _error_exit(text: str) -> typer.Exit:
    from valkey_workshop.render.console import status  # noqa: PLC0415 - on use (module docstring)

    status(f"Error: {text}")
    return typer.Exit(2)


#: An example line of a command's help: ``workshop`` there is the command that runs
#: (``naming.program()``), not a key such as ``workshop:x``.
_PROGRAM_IN_EXAMPLE = re.compile(r"(?<![\w:.-])workshop(?= )")


class _AsTyped:
    """A value conversion that keeps the value as typed (see WorkshopCommand.parse_args)."""

    def coerce(self, value: Any, **_context: Any) -> Any:
        return value


_AS_TYPED = _AsTyped()
_ABSENT = object()


@contextmanager
def values_as_typed(command: Any, ctx: Any) -> Iterator[None]:
    """On a Tab press (Click parses resiliently only to complete), ``command``'s values stay
    as typed while it parses.

    Typer (0.2x) converts each value through a pydantic adapter it builds on first use, and
    importing pydantic alone costs more than a whole Tab press may (5x a bare interpreter
    start, benchmarks/tab_press.py). Restored after, so a command run later in the same
    process converts as always; a Typer without that attribute is left as it is.
    """
    lazy = []
    if ctx.resilient_parsing:
        params = command.get_params(ctx)
        lazy = [p for p in params if getattr(p, "_runtime_param", _ABSENT) is None]
    for param in lazy:
        param._runtime_param = _AS_TYPED
    try:
        yield
    finally:
        for param in lazy:
            param._runtime_param = None


class QuickGroup(TyperGroup):
    """A group whose own options cost a Tab press no conversion (:func:`values_as_typed`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        with values_as_typed(self, ctx):
            return super().parse_args(ctx, args)


class WorkshopCommand(TyperCommand):
    """A command whose help a person reads: values are named (``MODULE``, ``[STEP]``,
    ``--workdir DIR``, ``--backend [auto|docker|...]``), never by their Python type (``<str>``)
    or parameter name (``step_argument``), and its examples name the command that runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        text = kwargs.get("help")
        if text and naming.program() != "workshop":
            kwargs["help"] = _PROGRAM_IN_EXAMPLE.sub(naming.program(), text)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        with values_as_typed(self, ctx):
            return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = value_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                # Its own words: Typer before 0.2x leaves an argument's help out of a plain
                # (rich_markup_mode=None) page and writes "\\[required]" alone.
                required = "  [required]" if param.required else ""
                arguments.append(
                    (value_name(param), f"{getattr(param, 'help', '') or ''}{required}")
                )
            elif param.param_type_name == "option":
                options.append((_option_names(param), record[1]))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def value_name(param: Any) -> str:
    """What ``--help`` calls a parameter's value: its metavar (``MODULE``), else ``N`` for a
    number, ``VALUE`` otherwise; ``...`` after one that takes several."""
    name = param.metavar
    if name is None:
        # A Typer that converts values lazily may not have built the parameter's type yet.
        kind = getattr(getattr(param, "type", None), "name", "")
        name = "N" if kind in ("integer", "float") or "range" in kind else "VALUE"
    return f"{name}..." if param.nargs != 1 else str(name)


def _option_names(param: Any) -> str:
    names = ", ".join(param.opts)
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if param.is_flag or getattr(param, "count", False):
        return names
    return f"{names} {value_name(param)}"


class ErrorBoundary(QuickGroup):
    """The one error path under every command: a :class:`WorkshopError` (from a use case, or
    :func:`fail` for bad input) or an operating-system error (a read-only folder, a full disk)
    is one line on stderr and exit code 2, never a traceback. A broken pipe (``workshop list |
    head``) is left to Typer.

    Built (once per run), it fills in the help texts' marks (:func:`naming.fill`): the running
    command's name and an example module of its course."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _fill_help(self, {})

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except WorkshopError as error:
            raise _error_exit(str(error)) from None
        except OSError as error:
            if error.errno == errno.EPIPE:
                raise
            raise _error_exit(describe_os_error(error)) from None


def _answering_a_tab_press() -> bool:
    """Whether this run completes a word for the shell (Click's variable for the program is
    set): it shows no help, so it need not survey the course for the help's example."""
    return f"_{naming.program()}_COMPLETE".replace("-", "_").upper() in os.environ


def _fill_help(command: Any, filled: dict[str, str]) -> None:
    """Fill the marks of ``command``'s help, its parameters' and its subcommands' (each text
    once: ``filled`` remembers what a text became)."""

    def module() -> str:
        # Surveying the course roots once per command line, however many texts name it; a
        # Tab press shows no help, so it does not pay for the survey (installed packages).
        if naming.MODULE_MARK not in filled:
            filled[naming.MODULE_MARK] = (
                "MODULE" if _answering_a_tab_press() else naming.example_module()
            )
        return filled[naming.MODULE_MARK]

    def fill(text: str | None) -> str | None:
        if not text or "{{" not in text:
            return text
        if text not in filled:
            filled[text] = naming.fill(text, module)
        return filled[text]

    for attribute in ("help", "short_help", "epilog"):
        if isinstance(getattr(command, attribute, None), str):
            setattr(command, attribute, fill(getattr(command, attribute)))
    for param in getattr(command, "params", []):
        if isinstance(getattr(param, "help", None), str):
            param.help = fill(param.help)
    for sub in getattr(command, "commands", {}).values():
        _fill_help(sub, filled)


@contextmanager
def live_server(
    backend: str | None,
    url: str | None,
    image: str | None,
    network: str | None = None,
    quiet: bool = False,
) -> Iterator[tuple[BackendChoice, ServerInfo]]:
    """Choose a backend (saying which and why, on stderr), start it, stop it on every exit."""
    from valkey_workshop.render.console import status  # noqa: PLC0415 - on use (module docstring)
    from valkey_workshop.render.views import backend_line  # noqa: PLC0415
    from valkey_workshop.server.resolve import choose_backend, open_backend  # noqa: PLC0415

    choice = choose_backend(backend, url, image=image)
    server = open_backend(choice, image=image, network=network)
    info = server.__enter__()  # a server that fails to start has stopped itself
    try:
        if not quiet:
            status(backend_line(choice, info))
        yield choice, info
    except KeyboardInterrupt:
        stopping()
        server.stop()
        status("Interrupted; the server was stopped.")
        raise
    finally:
        stopping()
        server.stop()


def require_terminal(command: str, alternative: str) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise fail(
            f"`{naming.program()} {command}` needs a terminal. In scripts and CI use {alternative}."
        )
