"""``workshop pack DIR``: parse, call :mod:`valkey_workshop.commands.pack`, render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valkey_workshop.cli.common import ImageOption
from valkey_workshop.commands import pack as packing
from valkey_workshop.render import out_console
from valkey_workshop.render.console import err_console
from valkey_workshop.render.pack import pack_result_view, pack_step_line
from valkey_workshop.results.pack import PackResult


def pack_command(
    folder: Annotated[Path, typer.Argument(help="A new (or empty) folder for the pack")],
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            help="Repeatable: "
            + ", ".join(packing.PLATFORMS)
            + f"  [default: {', '.join(packing.DEFAULT_PLATFORMS)}]",
            show_default=False,
        ),
    ] = None,
    python: Annotated[
        list[str] | None,
        typer.Option(
            "--python",
            help=f"Repeatable: Python versions  [default: {', '.join(packing.DEFAULT_PYTHONS)}]",
            show_default=False,
        ),
    ] = None,
    image: ImageOption = None,
    no_image: Annotated[
        bool, typer.Option("--no-image", help="Leave the container image out")
    ] = False,
) -> None:
    """Everything a venue needs to install offline: wheels per platform, the image, INSTALL.txt."""
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
