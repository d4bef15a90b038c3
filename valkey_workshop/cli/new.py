"""``workshop new module|step``: parse, call :mod:`valkey_workshop.commands.scaffold`, render."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valkey_workshop import naming
from valkey_workshop.cli.common import QuickGroup, WorkshopCommand, guarded
from valkey_workshop.cli.completion import complete_module

if TYPE_CHECKING:
    from valkey_workshop.commands.scaffold import Scaffolded

new_app = typer.Typer(
    cls=QuickGroup,
    help="Start a module or a step from content that verifies green at once.",
    short_help="Start a module or a step that verifies green at once.",
    no_args_is_help=True,
)


@new_app.command("module", cls=WorkshopCommand)
def module_command(
    module_id: Annotated[str, typer.Argument(metavar="ID", help="The module id, e.g. module4")],
    title: Annotated[
        str | None, typer.Option("--title", metavar="TITLE", help="The module's title")
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="Create ID/ in this folder [default: the current folder]"
        ),
    ] = None,
) -> None:
    """Create ID/ with module.toml, trainer notes and a first step.

    \b
    Examples:
      workshop new module module4 --title "Streams"
    """
    from valkey_workshop.commands.scaffold import new_module  # noqa: PLC0415 - on use (Tab)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    made = guarded(partial(new_module, module_id, title, directory))
    _report(made)
    where = made.folder.parent
    message(
        f"Next: WORKSHOP_COURSE_PATH={where} {naming.program()} verify {made.module_id} "
        "(the starter fails, the solution passes, the wrong answer is rejected, the demo runs)."
    )


@new_app.command("step", cls=WorkshopCommand)
def step_command(
    module_id: Annotated[
        str,
        typer.Argument(
            metavar="MODULE", help="A module on the course roots", autocompletion=complete_module
        ),
    ],
    slug: Annotated[
        str, typer.Argument(metavar="SLUG", help="The step's slug, e.g. sliding-window")
    ],
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="The folder holding MODULE/ [default: the course roots]"
        ),
    ] = None,
) -> None:
    """Add the next numbered step to a module of yours.

    The module is found on WORKSHOP_COURSE_PATH, or in --dir; never in the bundled course or
    an installed package.

    \b
    Examples:
      workshop new step module4 sliding-window
      workshop new step module4 token-bucket --dir ./my-course
    """
    from valkey_workshop.commands.scaffold import new_step  # noqa: PLC0415 - on use (Tab)
    from valkey_workshop.render.console import message  # noqa: PLC0415

    made = guarded(partial(new_step, module_id, slug, directory))
    _report(made)
    message(f"Next: {naming.program()} verify {made.module_id} {slug}")


def _report(made: Scaffolded) -> None:
    from valkey_workshop.render.console import message  # noqa: PLC0415 - on use (Tab)

    message(f"{made.module_id}: step {made.step_label} in {made.folder}")
    for path in made.created:
        message(f"  {path.relative_to(made.folder) if path.is_relative_to(made.folder) else path}")
