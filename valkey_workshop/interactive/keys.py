"""Single keys from the terminal without blocking, for loops that also wait on other events.

Three ways to read, chosen by what this Python has:

- POSIX terminals (``termios``): cbreak mode, so keys arrive one at a time with no echo; the
  terminal is restored however the loop ends.
- Windows consoles (``msvcrt``): ``kbhit``/``getwch``, no terminal mode to change.
- Anything else with a terminal (``termios`` missing, as in some embedded Pythons): line mode,
  the first character of each line typed (a key, then Enter).

Without a terminal, no key ever arrives.
"""

from __future__ import annotations

import importlib
import os
import select
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType, TracebackType
from typing import Any

#: How often the Windows reader looks for a key while waiting.
_POLL_SECONDS = 0.02

#: Arrow and paging keys by name: presenters' clickers send PageDown/PageUp or arrows.
RIGHT, LEFT, DOWN, UP, PAGE_DOWN, PAGE_UP = (
    "right",
    "left",
    "down",
    "up",
    "page-down",
    "page-up",
)
_SEQUENCES = {
    b"\x1b[C": RIGHT,
    b"\x1bOC": RIGHT,
    b"\x1b[D": LEFT,
    b"\x1bOD": LEFT,
    b"\x1b[B": DOWN,
    b"\x1bOB": DOWN,
    b"\x1b[A": UP,
    b"\x1bOA": UP,
    b"\x1b[6~": PAGE_DOWN,
    b"\x1b[5~": PAGE_UP,
}
_WINDOWS_KEYS = {"M": RIGHT, "K": LEFT, "P": DOWN, "H": UP, "Q": PAGE_DOWN, "I": PAGE_UP}


def _first_key(line: str) -> str:
    """Line mode: the first character typed, Enter alone, or end of input (as Ctrl-D)."""
    if not line:
        return "\x04"
    return line.strip()[:1] or "\n"


def _named(sequence: bytes) -> str:
    """An escape sequence's key name; an unknown one (or Esc alone) is ``"escape"``."""
    return _SEQUENCES.get(sequence, "escape")


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class KeyReader:
    """Use as a context manager; :meth:`read` returns one key or None after a timeout."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self._saved: list[Any] | None = None
        self._termios: ModuleType | None = None
        self._msvcrt: ModuleType | None = None
        self.mode = "none"

    def __enter__(self) -> KeyReader:
        if not sys.stdin.isatty():
            return self
        termios, tty = _optional("termios"), _optional("tty")
        if termios is not None and tty is not None:
            self._fd = sys.stdin.fileno()
            self._termios = termios
            self._saved = termios.tcgetattr(self._fd)
            # TCSANOW: keys pressed while the screen was being drawn stay in the queue (the
            # default, TCSAFLUSH, throws them away: a clicker pressed twice moved once).
            tty.setcbreak(self._fd, termios.TCSANOW)
            self.mode = "cbreak"
            return self
        msvcrt = _optional("msvcrt")
        if msvcrt is not None:
            self._msvcrt = msvcrt
            self.mode = "console"
            return self
        self._fd = sys.stdin.fileno()
        self.mode = "line"
        return self

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """The terminal as it was before (echo, lines) while another program owns it, such
        as the learner's editor; cbreak mode again afterwards."""
        if self._termios is None or self._fd is None or self._saved is None:
            yield
            return
        termios = self._termios
        cbreak = termios.tcgetattr(self._fd)
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        try:
            yield
        finally:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, cbreak)

    def read(self, timeout: float) -> str | None:
        """One key, or None when none came within ``timeout`` seconds."""
        if self._msvcrt is not None:
            return self._read_console(self._msvcrt, timeout)
        if self._fd is None:
            time.sleep(timeout)
            return None
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return None
        if self.mode == "line":
            return _first_key(sys.stdin.readline())
        data = os.read(self._fd, 1)
        if data == b"\x1b":
            return _named(data + self._rest_of_sequence())
        return data.decode("utf-8", errors="replace") if data else "\x04"

    def _rest_of_sequence(self) -> bytes:
        """The bytes after ESC of an arrow or paging key (``[C``, ``[6~``), read while they
        follow at once; a lone Esc press has none."""
        assert self._fd is not None
        rest = b""
        while len(rest) < 8:
            ready, _, _ = select.select([self._fd], [], [], 0.03)
            if not ready:
                break
            rest += os.read(self._fd, 1)
            if rest[-1:].isalpha() or rest.endswith(b"~"):
                break
        return rest

    @staticmethod
    def _read_console(msvcrt: ModuleType, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            if msvcrt.kbhit():
                key = str(msvcrt.getwch())
                if key in ("\x00", "\xe0"):  # an arrow or paging key: a second code says which
                    named = _WINDOWS_KEYS.get(str(msvcrt.getwch()))
                    if named is None:
                        continue
                    return named
                return "\n" if key == "\r" else key
            if time.monotonic() >= deadline:
                return None
            time.sleep(_POLL_SECONDS)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._termios is not None and self._fd is not None and self._saved is not None:
            self._termios.tcsetattr(self._fd, self._termios.TCSADRAIN, self._saved)


def wait_for_key() -> str:
    """Block until one key arrives (Ctrl-D or end of input comes back as ``"\\x04"``)."""
    with KeyReader() as keys:
        if keys.mode == "none":
            return "\x04"  # no terminal: nobody will ever press a key
        while True:
            key = keys.read(1.0)
            if key is not None:
                return key
