"""The two consoles: results on stdout, status and errors on stderr (so ``--json`` stays clean).

Both are created per call so they follow ``sys.stdout``/``sys.stderr`` as they are when a
command runs (Typer's test runner swaps them). Rich honours ``NO_COLOR`` and ``COLUMNS``.
"""

from __future__ import annotations

import io

from rich.console import Console

from valkey_workshop.render.theme import THEME

#: The widths output is laid out at. Rich takes ``COLUMNS`` as it is: 0 printed nothing (and
#: a check's verdict was lost), 99,999,999 made ``hint`` take 37 s and 2.6 GB.
MIN_WIDTH = 20
MAX_WIDTH = 1000


def clamp_width(console: Console) -> Console:
    """``console`` laid out at a width between :data:`MIN_WIDTH` and :data:`MAX_WIDTH`."""
    width = console.width
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        console.width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    return console


def out_console() -> Console:
    return clamp_width(Console(theme=THEME, highlight=False))


def err_console() -> Console:
    return clamp_width(Console(theme=THEME, highlight=False, stderr=True))


def status(text: object, wrap: bool = False) -> None:
    """A status line on stderr. Not wrapped by default, so paths and URLs stay whole (and
    copyable); ``wrap`` breaks it between words at the terminal's width instead, for lines
    that stay on screen (watch mode's server line)."""
    err_console().print(text, markup=False, soft_wrap=not wrap)


def message(text: object) -> None:
    """A plain line on stdout, never wrapped."""
    out_console().print(text, markup=False, soft_wrap=True)


def render_text(renderable: object, width: int = 80) -> str:
    """Plain text of a renderable at a fixed width, without colour (for tests and goldens)."""
    console = Console(
        theme=THEME,
        highlight=False,
        width=width,
        no_color=True,
        color_system=None,
        file=io.StringIO(),
        force_terminal=False,
    )
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined] # a StringIO, set above
    return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"
