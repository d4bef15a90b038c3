"""The two consoles: results on stdout, status and errors on stderr (so ``--json`` stays clean).

Both are created per call so they follow ``sys.stdout``/``sys.stderr`` as they are when a
command runs (Typer's test runner swaps them). Rich honours ``NO_COLOR`` and ``COLUMNS``.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, cast

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
    return clamp_width(Console(theme=THEME, highlight=False, file=_trimmed(sys.stdout)))


def err_console() -> Console:
    return clamp_width(
        Console(theme=THEME, highlight=False, stderr=True, file=_trimmed(sys.stderr))
    )


#: Spaces before a line's end (and any colour resets after them), as Rich pads to the width.
_PADDING = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)\n")


class TrimmedLines(io.TextIOBase):
    """A text stream that drops the spaces Rich pads each line with to the console's width:
    into a pipe or a file they are noise (diffs, ``grep 'x$'``). A line still being written
    is held until its newline, and written as it is on ``flush`` (a prompt keeps its space)."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        done, newline, self._pending = (self._pending + text).rpartition("\n")
        if newline:
            self._stream.write(_PADDING.sub(r"\1\n", done + newline))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override] # the wrapped stream's, read-only
        return getattr(self._stream, "encoding", None) or "utf-8"

    def fileno(self) -> int:
        return self._stream.fileno()


def _trimmed(stream: IO[str]) -> IO[str]:
    """``stream`` itself on a terminal (Rich draws the screen there), else trimmed."""
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return stream
    return cast("IO[str]", TrimmedLines(stream))  # a text stream: what Console writes to


@contextmanager
def paged(console: Console) -> Iterator[None]:
    """Show what is printed inside through a pager (``$PAGER``, else ``less``) when both ends
    are a terminal; piped or redirected, it is printed as it is."""
    if not (console.is_terminal and sys.stdin.isatty()):
        yield
        return
    saved = os.environ.get("LESS")
    if saved is None:
        # Colours through; quit at once when it fits one screen; leave the text on screen.
        os.environ["LESS"] = "-FRX"
    try:
        with console.pager(styles=True):
            yield
    finally:
        if saved is None:
            os.environ.pop("LESS", None)


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
