"""Once a command stops its server, a background thread that loses it is not a traceback;
before that, a thread's exception is shown (it may be a bug)."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import threading
from valkey_workshop.cli import stopping

def fail(what):
    raise ConnectionError(what)

thread = threading.Thread(target=fail, args=("before the end",))
thread.start(); thread.join()
stopping.stopping()
thread = threading.Thread(target=fail, args=("after the end",))
thread.start(); thread.join()
"""


def test_thread_exceptions_are_quiet_only_once_the_command_is_stopping() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, timeout=60
    )
    assert "ConnectionError: before the end" in result.stderr
    assert "after the end" not in result.stderr
