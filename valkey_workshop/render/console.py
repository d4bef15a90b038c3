"""The two consoles: results on stdout, status and errors on stderr (so ``--json`` stays clean).

Both are created per call so they follow ``sys.stdout``/``sys.stderr`` as they are when a
command runs (Typer's test runner swaps them). Rich honours ``NO_COLOR`` and ``COLUMNS``.
"""

from __future__ import annotations

import io

from rich.console import Console

from valkey_workshop.render.theme import THEME


def out_console() -> Console:
    return Console(theme=THEME, highlight=False)


def err_console() -> Console:
    return Console(theme=THEME, highlight=False, stderr=True)


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
