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
