"""Single keys from the terminal without blocking, for loops that also wait on other events.

The terminal is put in cbreak mode (keys arrive one at a time, no echo) and restored however
the loop ends. Without a terminal, no key ever arrives.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from types import TracebackType
from typing import Any


class KeyReader:
    def __init__(self) -> None:
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        if sys.stdin.isatty():
            self._fd = sys.stdin.fileno()
            self._saved = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd)
        return self

    def read(self, timeout: float) -> str | None:
        """One key, or None when none came within ``timeout`` seconds."""
        if self._fd is None:
            select.select([], [], [], timeout)
            return None
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self._fd, 1)
        return data.decode("utf-8", errors="replace") if data else "\x04"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None and self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
