"""What runs inside a fork server and its keeper (Linux): the loop that forks a worker for
every job, enforces its time limit and stops everything it started.

Starting Python and importing valkey-py, the checker and the checks' helpers takes 0.1-0.2 s:
more than most checks themselves, and ``verify`` runs close to two hundred of them. A fork
server pays that once. The runner starts it like a worker (``python -I``, the same import
path, a session of its own: see :mod:`.forkserver`, the runner's side); it imports what
workers need, then waits for jobs. For each job it forks a child that becomes the worker: a
new session and process group, the job's folder, environment, output files and memory limit,
then :func:`worker.run_and_exit`. Learner code runs only in those children, never in the fork
server itself, so every run starts from the state a new worker process would have.

What the runner guarantees for a worker it starts itself still holds:

- the fork server enforces the time limit, and kills the child's whole process group after
  every run (learner code's own processes included) before it reaps the child. It is also
  their subreaper: a process learner code moved out of the group (``setsid``, a double fork)
  comes back to it when its parents die, and is stopped too, which a worker the runner starts
  cannot promise;
- when the workshop process dies, even by SIGKILL, the fork server's stdin closes: it kills
  the running child's group and exits. The child also dies with the fork server (PDEATHSIG),
  and its guard stops its group and removes the scratch folder once the fork server's end of
  the guard pipe closes.

The messages (typed in :mod:`.protocol`): a ``ForkRequest`` a line on stdin; ``ForkStarted``
once the worker is forked, then ``ForkFinished`` once it is gone, a line each on stdout. The
worker keeps no descriptor of the fork server's: learner code can neither forge an answer nor
keep the pipes open.

Only the standard library and :mod:`.protocol` at import: the worker's modules are imported
after the fork server has started (:data:`PRELOADED`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn, cast

from valkey_workshop.checking.protocol import (
    STRAY_SECONDS,
    ForkFinished,
    ForkRequest,
    ForkStarted,
    encode,
)

#: Imported once by the fork server: what workers, checks and reference solutions import.
PRELOADED = (
    "valkey_workshop.checking.worker",
    "valkey_workshop.checking.inspect",
    "valkey_workshop.checking.advice",
    "valkey_workshop.checking.faults",
    "valkey_workshop.labdb",
    "valkey_workshop.timing.client",
    "valkey_workshop.timing.records",
    "json",
    "math",
    "numbers",
    "random",
    "secrets",
    "threading",
    # What each worker imported on its own before (about 5 ms a run, strace): ``resource`` for
    # the memory limit, and the IDNA codec the first connection to "127.0.0.1" encodes with.
    "resource",
    "encodings.idna",
)
_EXIT_STATUS_BROKEN = 70
#: Descriptors a forked worker closes (all but its guard pipe): above any a server opens.
_MAX_FD = 1 << 16
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38


def serve() -> NoReturn:
    """The fork server's main loop: one job per line on stdin until stdin closes.

    The process the runner started stays behind as the fork server's keeper (:func:`_keep`);
    the fork server itself is its child."""
    _become_subreaper()
    workshop = os.getppid()  # the runner's process: the keeper's parent
    server = os.fork()
    if server != 0:
        _keep(server)
    _become_subreaper()  # not inherited across fork
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    for name in PRELOADED:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    # Keep what is loaded now out of the collector's way: children then share these pages
    # with us instead of copying them when a collection touches them.
    gc.freeze()
    pending = b""
    while True:
        line, pending = _read_line(control_in, pending)
        if line is None:
            break  # the workshop process is gone (or closed us): nothing more to run
        try:
            request = cast(ForkRequest, json.loads(line))
            answer = _run_child(request, control_in, control_out, workshop)
        except Exception:  # noqa: BLE001 - a request we cannot run: the runner starts anew
            break
        if answer is None:
            break
        try:
            _write_line(control_out, answer)
        except OSError:
            break
    os._exit(0)


def _write_line(fd: int, message: ForkStarted | ForkFinished) -> None:
    data = encode(message)
    while data:
        data = data[os.write(fd, data) :]


def _read_line(fd: int, pending: bytes) -> tuple[bytes | None, bytes]:
    while b"\n" not in pending:
        try:
            chunk = os.read(fd, 1 << 16)
        except InterruptedError:
            continue
        except OSError:
            return None, b""
        if not chunk:
            return None, b""
        pending += chunk
    line, _, rest = pending.partition(b"\n")
    return line, rest


def _run_child(
    request: ForkRequest, control_in: int, control_out: int, workshop: int
) -> ForkFinished | None:
    """Fork the worker for ``request``, wait for it within the job's limit, kill its process
    group, reap it. None when the workshop process went away meanwhile."""
    guard_read, guard_write = os.pipe()
    server_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: becomes the worker, never returns
        try:
            # Nothing of ours stays open in learner code's reach: with the answer pipe it
            # could forge our answers, and a process it leaves behind would keep the pipe
            # open after we died.
            os.closerange(3, guard_read)
            os.closerange(guard_read + 1, _MAX_FD)
            _become_worker(request, guard_read, server_pid)
        finally:
            os._exit(_EXIT_STATUS_BROKEN)
    os.close(guard_read)
    timed_out, runner_gone = False, False
    try:
        _write_line(control_out, ForkStarted(started=pid))
        timed_out, runner_gone = _wait(pid, control_in, float(request["limit"]), workshop)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # learner code's processes too, not only the child
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # not yet its own group leader: the child alone
        _, status = os.waitpid(pid, 0)
        _stop_strays(pid)
        _resume_if_stopped(workshop)  # a stop sent just before the job ended
        os.close(guard_write)
    if runner_gone:
        # Nobody else will remove the dead runner's scratch folder (the child's guard, which
        # would have, went with the child's group).
        scratch = Path(request["job"]["result_file"]).parent
        if scratch.name.startswith("workshop-check-"):
            shutil.rmtree(scratch, ignore_errors=True)
        return None
    return ForkFinished(returncode=os.waitstatus_to_exitcode(status), timed_out=timed_out)


def _keep(server: int) -> NoReturn:
    """The keeper: waits for its child ``server``, the fork server, then stops every process
    still its child, and exits.

    While the fork server runs, orphans go to it (it is their subreaper) and it stops them
    after each run. Learner code that kills its parent kills the fork server, though: what
    that code had moved out of the worker's group is then handed up to the keeper instead,
    which learner code has no reason to know, and is stopped here. The keeper holds no end of
    the runner's pipes, so the runner still sees the fork server's end."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    while True:
        try:
            pid, _ = os.waitpid(-1, 0)  # orphans that exit meanwhile are reaped too
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == server:
            break
    _kill_children()
    os._exit(0)


def _become_subreaper() -> None:
    """Ask Linux to hand us every orphan among our descendants instead of init: a process
    learner code started and moved out of the worker's group (``setsid``, a double fork)
    then stays ours to stop (:func:`_stop_strays`)."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def _prctl(option: int, value: int) -> None:
    with contextlib.suppress(Exception):
        import ctypes  # noqa: PLC0415 - Linux only, and only here

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _stop_strays(group: int) -> None:
    """After a run: wait for the worker's process group to die out, then kill whatever else is
    still our child. The worker is reaped by now, so any child left is a process learner code
    started outside the group, handed to us as its parents died."""
    deadline = time.monotonic() + STRAY_SECONDS
    while time.monotonic() < deadline:
        _reap_any()
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            break  # the group is gone: its members' orphans are ours now
        time.sleep(0.001)
    _kill_children()


def _kill_children() -> None:
    """Kill and reap every child we have, round by round: a fork bomb's children arrive as
    their parents die."""
    for _ in range(1000):
        strays = _children()
        if not strays:
            return
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _reap_any() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _children() -> list[int]:
    """Our children (the fork server has one thread): one read of /proc, or a scan of it on a
    kernel that does not list children."""
    me = os.getpid()
    try:
        text = Path(f"/proc/{me}/task/{me}/children").read_text()
    except OSError:
        return [pid for pid in _all_pids() if _parent_of(pid) == me]
    return [int(pid) for pid in text.split()]


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _parent_of(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return int(text[text.rindex(")") + 2 :].split()[1])


#: How often, while learner code runs, the fork server looks whether the workshop process was
#: stopped (SIGSTOP from learner code), to resume it.
RESUME_SECONDS = 0.1


def _wait(pid: int, control_in: int, limit: float, workshop: int) -> tuple[bool, bool]:
    """Wait for the child to exit, the limit to pass or the runner to go: (timed out, gone).
    Meanwhile a stopped workshop process is resumed (:func:`_resume_if_stopped`)."""
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(control_in, select.POLLIN)
        deadline = time.monotonic() + limit
        while (remaining := deadline - time.monotonic()) > 0:
            _resume_if_stopped(workshop)
            for fd, _ in poller.poll(min(remaining, RESUME_SECONDS) * 1000):
                if fd == pidfd:
                    return False, False
                # The runner writes nothing while a job runs: this is its end (EOF), or a
                # runner that broke the protocol. Either way, stop.
                return False, True
        return True, False
    finally:
        os.close(pidfd)


def _resume_if_stopped(workshop: int) -> None:
    """Learner code can find the workshop process (its ancestor, same user) and send it
    SIGSTOP, which nothing can catch: the workshop would hang for ever, its time limit with
    it. The fork server, in a session of its own where that code cannot reach its group,
    sends SIGCONT to a workshop it finds stopped while a job runs. (A Ctrl-Z while a check
    runs is undone too; between checks it suspends the workshop as usual.)"""
    try:
        status = Path(f"/proc/{workshop}/status").read_text()
    except OSError:
        return
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    pending = 0
    for name in ("SigPnd", "ShdPnd"):  # a stop sent just now may not have taken effect yet
        with contextlib.suppress(KeyError, ValueError):
            pending |= int(fields[name], 16)
    stopping = any(pending & (1 << (number - 1)) for number in _STOP_SIGNALS)
    if fields.get("State", "").startswith("T") or stopping:  # "t" is a debugger's stop
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(workshop, signal.SIGCONT)  # also discards a stop still pending


#: Signals that stop a process by default.
_STOP_SIGNALS = tuple(
    int(getattr(signal, name))
    for name in ("SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU")
    if hasattr(signal, name)
)


def _become_worker(request: ForkRequest, guard_read: int, server_pid: int) -> NoReturn:
    """In the forked child: take the shape of a worker process the runner would have started,
    then run the job."""
    from valkey_workshop.checking import worker  # noqa: PLC0415 - preloaded; a cycle otherwise

    os.setsid()  # a process group of our own, killed as a whole after the run
    # The mark of everything learner code starts, which it cannot clear: should it kill us and
    # our keeper, the workshop process, their subreaper then, knows what to stop (strays.py).
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    worker.die_with_parent()  # the same rule as for a worker the runner starts
    if os.getppid() != server_pid:
        os._exit(3)  # the fork server died before we could ask to die with it
    for path, target in ((request["stdout"], 1), (request["stderr"], 2)):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    # The runner's environment, changing only what differs (clearing and setting all of it
    # again took about 1 ms a run).
    wanted = request["env"]
    for name in [name for name in os.environ if name not in wanted]:
        del os.environ[name]
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
    job = request["job"]
    # The exercise's folder goes last (run_job appends it): never where the fork server's
    # path had it, if the workshop process was started from inside it.
    folder = Path(job["exercise"]).resolve().parent
    sys.path[:] = [entry for entry in sys.path if not _is_folder(entry, folder)]
    worker.guard_group(Path(job["result_file"]).parent, guard_read)
    os.close(guard_read)
    worker.run_and_exit(job)


def _is_folder(entry: str, folder: Path) -> bool:
    if not entry:
        return True  # the current folder, which is the exercise's now
    try:
        return Path(entry).resolve() == folder
    except OSError:
        return False
