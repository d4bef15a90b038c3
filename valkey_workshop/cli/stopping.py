"""Quiet endings: once a command is stopping its server, background threads that fail
because the server went away (a demo's PING probe, say) are not news to the user.

Only the standard library: the console script imports this before anything heavy.
"""

from __future__ import annotations

import threading

_stopping = threading.Event()
_default_hook = threading.excepthook


def _hook(args: threading.ExceptHookArgs) -> None:
    if _stopping.is_set():
        return  # the thread lost its server because the command is ending, as intended
    _default_hook(args)


def stopping() -> None:
    """The command is ending (done, Ctrl-C, SIGTERM): from now on a background thread's
    exception is not printed. Before this, every one is (it may be a bug)."""
    _stopping.set()


threading.excepthook = _hook
