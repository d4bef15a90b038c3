"""The two consoles: results on stdout, status and errors on stderr (so ``--json`` stays clean).

Both are created per call so they follow ``sys.stdout``/``sys.stderr`` as they are when a
command runs (Typer's test runner swaps them). Rich honours ``NO_COLOR`` and ``COLUMNS``.
"""

from __future__ import annotations

from rich.console import Console

from valkey_workshop.render.theme import THEME


def out_console() -> Console:
    return Console(theme=THEME, highlight=False)


def err_console() -> Console:
    return Console(theme=THEME, highlight=False, stderr=True)


def status(text: object) -> None:
    """A status line on stderr. Never wrapped, so paths and URLs stay whole (and copyable)."""
    err_console().print(text, markup=False, soft_wrap=True)


def message(text: object) -> None:
    """A plain line on stdout, never wrapped."""
    out_console().print(text, markup=False, soft_wrap=True)
