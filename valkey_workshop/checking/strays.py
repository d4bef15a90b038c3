"""Processes learner code left that Linux hands to the workshop process itself.

The fork server and its keeper are subreapers: a process learner code moves out of the
worker's group (``setsid``, a double fork) comes back to one of them when its parents die,
and is stopped after the run (:mod:`.forkserver_process`). Learner code can find both (its
parent and its parent's parent) and kill them; what it left is then handed up to the next
subreaper above, which without this module is init, and it survives the check.

So while a fork server runs a job, the workshop process is a subreaper too (:func:`adopting`),
and after the job it stops every child of its own that it did not start: a process learner
code started, known by the ``no_new_privs`` flag every forked worker sets before learner code
runs (inherited by everything it starts and never cleared, not even by ``execve``), and the
fork server itself once its keeper is gone (it is in the keeper's session). Nothing else is
touched: the Valkey servers, the keepers and whatever else the workshop (or a test) started
carry neither mark.

The limit: where the workshop itself already runs with ``no_new_privs`` (some containers and
service managers set it), the mark tells nothing, and only the fork server is stopped this
way. Learner code that kills the workshop process too leaves whatever it started running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
#: The flag a forked worker sets on itself (``prctl(PR_SET_NO_NEW_PRIVS)``): its mark.
PR_SET_NO_NEW_PRIVS = 38
#: Rounds of stopping: a fork bomb's children arrive as their parents die.
_MAX_ROUNDS = 1000

_lock = threading.Lock()
_runs = 0  # jobs running now, over every lane: the subreaper flag is the process's


@contextlib.contextmanager
def adopting(keeper: int) -> Iterator[None]:
    """Around one job of the fork server whose keeper is ``keeper``: the workshop process is
    a subreaper meanwhile, and afterwards stops what learner code left with it
    (:func:`stop_adopted`). The flag is dropped once no lane runs a job any more, so
    orphans of anything else the workshop starts go to init as before."""
    global _runs  # noqa: PLW0603 - one count for the whole process, under the lock
    with _lock:
        if _runs == 0:
            _set_subreaper(on=True)
        _runs += 1
    try:
        yield
    finally:
        try:
            stop_adopted(keeper)
        finally:
            with _lock:
                _runs -= 1
                if _runs == 0:
                    _set_subreaper(on=False)


def stop_adopted(keeper: int) -> list[int]:
    """Kill and reap, round by round, every child of this process that learner code started
    (or the fork server of ``keeper``, once the keeper is gone); the ones stopped.

    Reaping each one before the next round matters: once a process is reaped, the children
    it had are ours already, so nothing can arrive after the last round looked."""
    learner_marked = not _no_new_privs(os.getpid())
    stopped: list[int] = []
    for _ in range(_MAX_ROUNDS):
        strays = [pid for pid in _children() if _is_stray(pid, keeper, learner_marked)]
        if not strays:
            break
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        stopped += strays
    return stopped


def _is_stray(pid: int, keeper: int, learner_marked: bool) -> bool:
    if pid == keeper:
        return False  # ours, reaped by its Popen
    if learner_marked and _no_new_privs(pid):
        return True
    return _session_of(pid) == keeper  # the fork server (or a worker) whose keeper died


def _set_subreaper(*, on: bool) -> None:
    _prctl(_PR_SET_CHILD_SUBREAPER, int(on))


def _prctl(option: int, value: int) -> None:
    with contextlib.suppress(Exception):
        _libc()(option, value, 0, 0, 0)


def _libc() -> Callable[..., int]:
    import ctypes  # noqa: PLC0415 - Linux only, and only when a fork server runs

    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def _children() -> list[int]:
    """This process's children, over all its threads (each thread has its own list), or a
    scan of /proc on a kernel that does not list them."""
    me = os.getpid()
    found: list[int] = []
    listed = False
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{me}/task").iterdir():
            try:
                text = (task / "children").read_text()
            except OSError:
                continue  # a thread that just ended, or no such file on this kernel
            listed = True
            found += [int(pid) for pid in text.split()]
    if not listed:
        return [pid for pid in _all_pids() if _stat_field(pid, 1) == me]
    return found


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _stat_field(pid: int, index: int) -> int | None:
    """A number from ``/proc/<pid>/stat`` after the command name: 1 the parent, 3 the
    session. None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
    return int(text[text.rindex(")") + 2 :].split()[index])


def _session_of(pid: int) -> int | None:
    return _stat_field(pid, 3)


def _no_new_privs(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return any(line.split() == ["NoNewPrivs:", "1"] for line in status.splitlines())
