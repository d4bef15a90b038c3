"""The runner's side of the fork server (Linux): starting fork servers, talking to them,
keeping idle ones for later runs and replacing one that broke.

A fork server (:mod:`.forkserver_process`, what runs inside it) forks a fresh worker for every
run, so a run does not pay Python's start and imports (0.1-0.2 s, more than most checks). The
runner borrows one per run (:func:`borrowed`), one runner thread at a time.

Protocol, JSON lines (typed in :mod:`.protocol`). The runner sends a ``ForkRequest``
(``{"job", "cwd", "stdout", "stderr", "limit", "env"}``); the fork server answers
``ForkStarted`` (``{"started": pid}``) once it has forked the worker, then ``ForkFinished``
(``{"returncode", "timed_out"}``) once the worker is gone. Anything else (the fork server's
stdout closing, a line that is not that) and the runner stops the fork server and starts
another.

Linux only: macOS forbids ``fork`` once some system frameworks are loaded, and Windows has no
``fork``. Elsewhere, or with ``WORKSHOP_FORK_SERVER=0``, the runner starts one worker process
per run.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from valkey_workshop.checking import strays
from valkey_workshop.checking.protocol import STRAY_SECONDS, ForkRequest, encode

#: Set to 0 to start one worker process per run instead (the path Windows and macOS take).
FORK_SERVER_ENV = "WORKSHOP_FORK_SERVER"
#: How the runner starts a fork server: ``python -I -B -c SERVER_BOOTSTRAP [path ...]``.
SERVER_BOOTSTRAP = (
    "import sys\n"
    "sys.path.extend(p for p in sys.argv[1:] if p not in sys.path)\n"
    "del sys.argv[1:]\n"
    "from valkey_workshop.checking.forkserver_process import serve\n"
    "serve()\n"
)
#: Beyond its time limit, how long the runner waits for the fork server's answer (it needs
#: STRAY_SECONDS at most to stop what the worker left).
ANSWER_GRACE_SECONDS = 10.0
#: How long a new fork server may take to import everything and fork its first worker.
START_SECONDS = 30.0
#: Idle fork servers kept for later runs (one per proof lane is what ``verify -j`` needs).
MAX_IDLE = max(2, os.cpu_count() or 2)


class ForkServerError(Exception):
    """The fork server did not answer as agreed; it has been stopped.

    ``during_job``: it had forked the worker, so learner code ran (and may have killed it);
    otherwise the fork server itself could not start a worker."""

    def __init__(self, message: str, *, during_job: bool) -> None:
        super().__init__(message)
        self.during_job = during_job


def available() -> bool:
    """Whether runs go through a fork server here: Linux with pidfd support, not switched off."""
    if os.environ.get(FORK_SERVER_ENV, "").strip() == "0":
        return False
    return _supported()


def _supported() -> bool:
    if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"):
        return False
    global _pidfd_works  # noqa: PLW0603 - probed once per process
    if _pidfd_works is None:
        try:
            os.close(os.pidfd_open(os.getpid()))
            _pidfd_works = True
        except OSError:  # a kernel older than 5.3
            _pidfd_works = False
    return _pidfd_works


_pidfd_works: bool | None = None


class ForkServer:
    """One fork server process, used by one runner thread at a time."""

    def __init__(self, path_entries: tuple[str, ...]) -> None:
        self.path_entries = path_entries
        self._pending = b""
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", SERVER_BOOTSTRAP, *path_entries],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
            # A session of its own: a Ctrl-C in the terminal reaches the workshop, which then
            # stops us, rather than a job halfway.
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, request: ForkRequest, limit: float) -> tuple[int, bool]:
        """Run one job; (the worker's exit code, whether its time limit stopped it).

        Raises:
            ForkServerError: no answer as agreed; this fork server is stopped.
        """
        # What learner code leaves after killing this fork server and its keeper comes to us.
        with strays.adopting(self.process.pid):
            return self._run(request, limit)

    def _run(self, request: ForkRequest, limit: float) -> tuple[int, bool]:
        assert self.process.stdin is not None and self.process.stdout is not None
        started = False
        try:
            self.process.stdin.write(encode(ForkRequest(**request, limit=limit)))
            self.process.stdin.flush()
            started = "started" in json.loads(self._read_answer(START_SECONDS))
            answer = json.loads(self._read_answer(limit + ANSWER_GRACE_SECONDS))
            return int(answer["returncode"]), bool(answer["timed_out"])
        except BaseException as error:
            # Ctrl-C, a dead or confused fork server: stop it. Asked to, it stops the worker's
            # group and whatever left it before it goes; killed, it could not.
            self.stop()
            if isinstance(error, Exception):
                raise ForkServerError(
                    f"the fork server stopped answering: {error!r}", during_job=started
                ) from error
            raise

    def _read_answer(self, within: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + within
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {within:g} s")
            if not poller.poll(min(remaining, 3600.0) * 1000):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError("the fork server exited")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def stop(self) -> None:
        """Close our end: the fork server stops its running worker, with everything that
        worker started, and exits. Killed if it has not within a few seconds (stopped with
        SIGSTOP, say), or when a second Ctrl-C cuts the wait short."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.process.wait(timeout=STRAY_SECONDS + 3)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


_idle: list[ForkServer] = []
_idle_lock = threading.Lock()
_owner_pid = os.getpid()


@contextlib.contextmanager
def borrowed(path_entries: tuple[str, ...]) -> Iterator[ForkServer]:
    """A fork server for one run: an idle one with the same import path, or a new one. It
    goes back to the pool after a run that went as agreed, and is stopped otherwise."""
    server = None
    with _idle_lock:
        if os.getpid() == _owner_pid:
            while _idle and server is None:
                candidate = _idle.pop()
                if candidate.path_entries == path_entries and candidate.alive():
                    server = candidate
                else:
                    candidate.stop()
    if server is None:
        server = ForkServer(path_entries)
    healthy = False
    try:
        yield server
        healthy = True
    finally:
        if healthy and server.alive():
            with _idle_lock:
                if len(_idle) < MAX_IDLE and os.getpid() == _owner_pid:
                    _idle.append(server)
                    server = None
        if server is not None:
            server.stop()


def stop_all() -> None:
    """Stop every idle fork server (at exit; tests that count processes call it too)."""
    with _idle_lock:
        servers = list(_idle) if os.getpid() == _owner_pid else []
        _idle.clear()
    for server in servers:
        server.stop()


atexit.register(stop_all)
