"""``workshop pack DIR``: parse, call :mod:`valkey_workshop.commands.pack`, render."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valkey_workshop.cli.common import ImageOption
from valkey_workshop.cli.completion import (
    PLATFORM_NAMES,
    PYTHONS,
    choices_metavar,
    complete_choice,
)

if TYPE_CHECKING:
    from valkey_workshop.results.pack import PackResult


def pack_command(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="A new (or empty) folder for the pack")
    ],
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="PLATFORM",
            help="Repeatable, one of: " + ", ".join(PLATFORM_NAMES) + "  [default: all of them]",
            show_default=False,
            autocompletion=complete_choice(PLATFORM_NAMES),
        ),
    ] = None,
    python: Annotated[
        list[str] | None,
        typer.Option(
            "--python",
            metavar=choices_metavar(PYTHONS),
            help="Repeatable: a Python version (a newer 3.x works too)  [default: all of them]",
            show_default=False,
            autocompletion=complete_choice(PYTHONS),
        ),
    ] = None,
    image: ImageOption = None,
    no_image: Annotated[
        bool, typer.Option("--no-image", help="Leave the container image out")
    ] = False,
) -> None:
    """Everything a room needs to install offline, in one folder.

    Wheels for every platform and Python chosen, the container image, and INSTALL.txt.

    \b
    Examples:
      workshop pack ./usb-stick
      workshop pack ./pack --platform linux-aarch64 --python 3.13 --no-image
    """
    from valkey_workshop.commands import pack as packing  # noqa: PLC0415 - on use (Tab, --help)
    from valkey_workshop.render import out_console  # noqa: PLC0415
    from valkey_workshop.render.console import err_console  # noqa: PLC0415
    from valkey_workshop.render.pack import pack_result_view, pack_step_line  # noqa: PLC0415
    from valkey_workshop.results.pack import PackResult  # noqa: PLC0415
    from valkey_workshop.server.docker import resolve_image  # noqa: PLC0415 - docker-py is slow

    platforms = packing.resolve_platforms(platform)
    pythons = packing.resolve_pythons(python)
    chosen_image = None if no_image else resolve_image(image)
    progress = err_console()

    def run() -> PackResult:
        for item in packing.pack(folder, platforms, pythons, chosen_image):
            if isinstance(item, PackResult):
                return item
            progress.print(pack_step_line(item), soft_wrap=True)
        raise AssertionError("pack() ends with its result")  # pragma: no cover

    out_console().print(pack_result_view(run()), soft_wrap=True)
