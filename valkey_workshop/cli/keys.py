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
from types import ModuleType, TracebackType
from typing import Any

#: How often the Windows reader looks for a key while waiting.
_POLL_SECONDS = 0.02


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
            tty.setcbreak(self._fd)
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
            line = sys.stdin.readline()
            if not line:
                return "\x04"  # end of input, as Ctrl-D in cbreak mode
            return line.strip()[:1] or "\n"
        data = os.read(self._fd, 1)
        return data.decode("utf-8", errors="replace") if data else "\x04"

    @staticmethod
    def _read_console(msvcrt: ModuleType, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            if msvcrt.kbhit():
                key = str(msvcrt.getwch())
                if key in ("\x00", "\xe0"):  # an arrow or function key: two codes, skip both
                    msvcrt.getwch()
                    continue
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
