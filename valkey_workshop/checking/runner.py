"""Runs one step's checks in a worker process, with time and memory limits, and collects the
results.

A verdict cannot be cut short: the runner itself reads which checks the step's ``checks.py``
defines, and a step passes only when every one of them reported a pass, through an event that
carries this run's secret. A check that did not report is a failure named after it, saying why
it did not run. :func:`run_step_checks` installs no signal handlers and keeps no global state
but a lock-guarded cache of each ``checks.py``'s check list (keyed on the file's content), so
threads may call it at once.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import marshal
import math
import os
import re
import secrets
import select
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from valkey_workshop.checking import forkserver
from valkey_workshop.checking.api import CheckSpec
from valkey_workshop.checking.protocol import (
    ALL_CHECKS,
    MAC_FIELD,
    SEQ_FIELD,
    CheckSelection,
    Event,
    ForkRequest,
    Job,
    encode,
)
from valkey_workshop.checking.results import CallView, CheckResult, StepResult
from valkey_workshop.checking.seeds import run_seed
from valkey_workshop.checking.specs import check_specs, chosen
from valkey_workshop.checking.worker import (
    BOOTSTRAP,
    OUTPUT_FILE_LIMIT,
    OUTPUT_TAIL_CHARS,
    event_mac,
    format_bytes,
)
from valkey_workshop.content.models import Step

#: Memory learner code may use when nothing else is said (``--memory-limit``).
DEFAULT_MEMORY_LIMIT = 1 << 30
#: The environment variable behind ``--memory-limit``.
MEMORY_LIMIT_ENV = "WORKSHOP_MEMORY_LIMIT"
#: Below this the worker itself (Python, valkey-py, the checks) could not run.
MIN_MEMORY_LIMIT = 64 << 20
#: At most this much of the event file is read (a learner could append to it for ever).
MAX_EVENT_BYTES = 16 << 20
#: How much of the worker's own stderr is read to explain a crash.
STDERR_TAIL_BYTES = 4096

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


#: Scratch folders are named ``workshop-check-<owner pid>-...``: a workshop killed outright
#: cannot remove its own, so the next checker process removes those of dead owners.
SCRATCH_PREFIX = "workshop-check-"
_swept = False


def _sweep_stale_scratch() -> None:
    global _swept  # noqa: PLW0603 - once per process is enough, and cheap to re-check
    if _swept:
        return
    _swept = True
    from valkey_workshop.server.embedded import remove_stale_folders  # noqa: PLC0415

    remove_stale_folders(prefix=SCRATCH_PREFIX)


def parse_memory_limit(text: str) -> int:
    """``512M``, ``2G``, ``1.5GiB``, ``1073741824`` (bytes) as a number of bytes.

    Raises:
        ValueError: not a size, or below 64 MiB (the checks themselves need that much).
    """
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a memory size; use e.g. 512M or 2G.")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < MIN_MEMORY_LIMIT:
        raise ValueError(
            f"a memory limit of {text} is too small: the checks need at least "
            f"{format_bytes(MIN_MEMORY_LIMIT)}."
        )
    return size


def default_memory_limit() -> int:
    """``WORKSHOP_MEMORY_LIMIT`` when set and valid, else 1 GiB."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text:
        with contextlib.suppress(ValueError):
            return parse_memory_limit(text)
    return DEFAULT_MEMORY_LIMIT


#: Each ``checks.py``'s check list and compiled code by (path, SHA-256 of its content). Reading
#: the list means running the file (6-23 ms for module3's, on the thread that dispatches
#: proofs), and every worker compiled it again (up to 13 ms); ``verify`` asks for the same step
#: once per proof, over two hundred times. A changed file is read again; a file that does not
#: load is never kept, so it fails the same way every time.
_CHECKS_BY_CONTENT: dict[tuple[str, bytes], tuple[tuple[CheckSpec, ...], str]] = {}
_CHECKS_LOCK = threading.Lock()
#: Entries kept at most (an author editing a step adds one per saved version).
_CHECKS_KEPT = 64


def _step_checks(checks_file: Path) -> tuple[list[CheckSpec], str]:
    """The checks ``checks_file`` defines, in order, and the file compiled for the worker
    (``Job.checks_code``); read once per content of the file.

    Raises:
        Exception: whatever reading or running the file raises (it does not load).
    """
    path = checks_file.resolve()
    source = path.read_bytes()
    key = (str(path), hashlib.sha256(source).digest())
    with _CHECKS_LOCK:
        known = _CHECKS_BY_CONTENT.get(key)
    if known is None:
        specs = tuple(check_specs(path))
        # As the import system compiles it, under the name the worker is given (``checks``).
        code = compile(source, str(path), "exec", dont_inherit=True)
        known = specs, base64.b64encode(marshal.dumps(code)).decode("ascii")
        with _CHECKS_LOCK:
            if len(_CHECKS_BY_CONTENT) >= _CHECKS_KEPT:
                _CHECKS_BY_CONTENT.clear()
            _CHECKS_BY_CONTENT[key] = known
    return list(known[0]), known[1]


#: Why a check after the first failure did not run, in a run that stops there.
STOPPED_AT_FIRST_FAILURE = "did not run: an earlier check failed, and this run stops there"


def describe_checks_error(error: BaseException, checks_file: Path) -> str:
    """``/…/checks.py line 12: SyntaxError: invalid syntax``: where a checks file fails to
    load and why, in one line."""
    line: int | None = None
    if isinstance(error, SyntaxError):
        line, text = error.lineno, f"SyntaxError: {error.msg}"
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            if Path(frame.filename).resolve() == checks_file.resolve():
                line = frame.lineno
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    where = f"{checks_file} line {line}" if line else str(checks_file)
    return f"{where}: {text}"


def run_step_checks(
    step: Step,
    exercise: Path,
    url: str,
    time_limit_seconds: float | None = None,
    *,
    memory_limit_bytes: int | None = None,
    selection: CheckSelection = ALL_CHECKS,
) -> StepResult:
    """Check ``exercise`` against ``step``'s checks on the server at ``url``.

    Never raises for anything learner code does: a syntax error, an exception (any
    ``BaseException``), an endless loop, ``sys.exit``, running out of memory or a crash of the
    interpreter come back as a failed step whose failed checks say what happened. Every check
    the ``selection`` names (default: every check ``checks.py`` defines) is in the result, in
    the selection's order; a step passes only when each one ran and passed. With
    ``selection.stop_at_first_failure`` the checks after the first failure do not run (each is
    a failure saying so). ``memory_limit_bytes`` defaults to :func:`default_memory_limit`.
    """
    limit = time_limit_seconds if time_limit_seconds is not None else step.time_limit_seconds
    if math.isnan(limit) or limit <= 0:
        limit = step.time_limit_seconds
    memory = memory_limit_bytes if memory_limit_bytes is not None else default_memory_limit()
    started = time.perf_counter()
    checks_path = step.checks
    try:
        every, checks_code = _step_checks(checks_path)
        specs = chosen(every, selection.only)
    except Exception as error:  # noqa: BLE001 - a broken checks.py is a finding, not a crash
        # The course's fault, not the learner's: not run, and no attempt is recorded.
        return replace(
            _result(step, exercise, [], started, None),
            not_run=(
                f"The step's checks do not load ({describe_checks_error(error, checks_path)}): "
                "the course content is broken, not your code. Nothing was recorded; tell "
                "the course's author."
            ),
        )
    if not exercise.is_file():
        problem = f"{exercise} does not exist."
        missing = [CheckResult("loads", "The exercise file loads", False, problem, 0.0)]
        missing += [
            _failure(spec, "did not run: there is no exercise file", ran=False) for spec in specs
        ]
        return _result(step, exercise, missing, started, problem)

    seed = run_seed()
    job = Job(
        # Absolute: the worker starts in the exercise's folder, not in ours.
        checks=str(checks_path.resolve()),
        exercise=str(exercise.resolve()),
        url=url,
        secret=secrets.token_hex(16),
        parent_pid=os.getpid(),
        memory_limit=memory,
        only=list(selection.only) if selection.only is not None else None,
        stop_at_first_failure=selection.stop_at_first_failure,
        seed=seed,
        checks_code=checks_code,
    )
    _sweep_stale_scratch()
    outcome, parent_killed = None, False
    if forkserver.available():
        outcome, parent_killed = _run_forked(job, exercise, limit)
    if outcome is None:
        outcome = _run_in_scratch(job, exercise, limit, forked=False)
    returncode, timed_out, events, stderr = outcome
    run = _Run(
        specs,
        limit,
        memory,
        timed_out,
        returncode,
        stderr,
        parent_killed,
        stop_at_first_failure=selection.stop_at_first_failure,
        foreign_lines=events.foreign,
        output_dropped=events.output_dropped,
    )
    checks, stopped, output = run.collect(events.events)
    return replace(_result(step, exercise, checks, started, stopped, output), seed=seed)


def _run_forked(
    job: Job, exercise: Path, limit: float
) -> tuple[tuple[int | None, bool, Events, bytes] | None, bool]:
    """``job`` through a fork server: (its outcome, whether the fork server was killed while
    the job ran, twice). No outcome when the fork server could not even start a worker: the
    caller starts a worker process of its own then."""
    for attempt in (1, 2):
        try:
            return _run_in_scratch(job, exercise, limit, forked=True), False
        except forkserver.ForkServerError as error:
            if not error.during_job:
                return None, False  # our machinery failed, not learner code
            if attempt == 2:
                # It died while learner code ran, on a fresh fork server too: the code kills
                # its parent. A worker process of our own would have the workshop itself as
                # that parent, so it is judged here instead.
                return (None, False, Events([]), b""), True
    raise AssertionError("unreachable")  # pragma: no cover


def _run_in_scratch(
    job: Job, exercise: Path, limit: float, *, forked: bool
) -> tuple[int | None, bool, Events, bytes]:
    """Run ``job`` with a fresh scratch folder for its events and output: (exit code, whether
    the time limit stopped it, the authentic events, the tail of its stderr).

    Raises:
        forkserver.ForkServerError: ``forked`` and the fork server failed.
    """
    # Learner code runs as the same user and may change these files: nothing it does to them
    # may crash or hang the workshop process.
    with tempfile.TemporaryDirectory(
        prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", ignore_cleanup_errors=True
    ) as scratch:
        folder = Path(scratch).resolve()
        result_file, stdout_file, stderr_file = (
            folder / "events.jsonl",
            folder / "stdout",
            folder / "stderr",
        )
        for path in (result_file, stdout_file, stderr_file):
            path.touch()
        job = Job(**job, result_file=str(result_file))
        returncode: int | None
        if forked:
            forked_job = Job(**job)
            forked_job.pop("parent_pid", None)  # the fork server checks its own parent
            request = ForkRequest(
                job=forked_job,
                cwd=str(exercise.resolve().parent),  # the fork server runs in /
                stdout=str(stdout_file),
                stderr=str(stderr_file),
                env=dict(os.environ),
            )
            with forkserver.borrowed(tuple(_path_for_worker(None))) as server:
                returncode, timed_out = server.run(request, limit)
        else:
            returncode, timed_out = _run_worker_process(
                job, exercise, limit, stdout_file, stderr_file
            )
        events = _read_events(result_file, job["secret"])
        if any(_size(path) >= OUTPUT_FILE_LIMIT for path in (stdout_file, stderr_file)):
            events = Events(events.events, events.foreign, output_dropped=True)
        stderr = _read_regular(stderr_file, STDERR_TAIL_BYTES, tail=True)
    return returncode, timed_out, events, stderr


def _run_worker_process(
    job: Job, exercise: Path, limit: float, stdout_file: Path, stderr_file: Path
) -> tuple[int | None, bool]:
    """Start a worker process for ``job``, wait within ``limit``, stop its process group."""
    # Files, not pipes: a process learner code started may keep them open after the worker
    # has exited, and that must not keep us waiting.
    with stdout_file.open("wb") as out, stderr_file.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", BOOTSTRAP, *_path_for_worker(exercise.parent)],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            cwd=exercise.parent,
            # Own process group: we can stop learner code and anything it started, and a
            # Ctrl-C in the terminal reaches the workshop first.
            start_new_session=True,
        )
    timed_out = False
    try:
        assert process.stdin is not None  # stdin=PIPE above
        with contextlib.suppress(BrokenPipeError, OSError):
            # One line, and the pipe stays open: the worker's guard stops the group when it
            # closes, which the kernel does if this process dies.
            process.stdin.write(encode(job))
            process.stdin.flush()
        timed_out = not _wait_for_exit(process, limit)
    finally:
        # Always, not only on a timeout: threads and processes learner code left behind go
        # with the worker (Ctrl-C while waiting lands here too).
        _kill_group(process)
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
    return process.returncode, timed_out


def _path_for_worker(exercise_folder: Path | None) -> list[str]:
    """This process's import path for the worker, which adds it after its own defaults (the
    standard library and site-packages come first, so nothing here can replace them), plus
    the folder this package was imported from (a source checkout run with ``python -m``).
    The exercise's folder is left out: the worker adds it itself, last."""
    folder = exercise_folder.resolve() if exercise_folder is not None else None
    package_root = str(Path(__file__).resolve().parents[2])
    entries = []
    for entry in [*sys.path, package_root]:
        if not entry or entry in entries:
            continue  # "" is the current folder, which may be the exercise's
        with contextlib.suppress(OSError):
            if folder is not None and Path(entry).resolve() == folder:
                continue  # the worker adds the exercise folder itself, last
        entries.append(entry)
    return entries


def _wait_for_exit(process: subprocess.Popen[bytes], limit: float) -> bool:
    """Wait until the worker exits (True) or ``limit`` seconds pass (False), without reaping
    it, so that its process group id cannot be reused before :func:`_kill_group`."""
    pidfd_open = getattr(os, "pidfd_open", None)
    poll = getattr(select, "poll", None)
    if pidfd_open is None or poll is None:  # not Linux: wait (and reap) the usual way
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        pidfd = pidfd_open(process.pid)
    except OSError:  # an old kernel
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        poller = poll()
        poller.register(pidfd, select.POLLIN)
        deadline = time.monotonic() + limit
        while (remaining := deadline - time.monotonic()) > 0:
            # In slices: poll() takes a C int of milliseconds, and the limit may be huge.
            if poller.poll(min(remaining, 3600.0) * 1000):
                return True
        return False
    finally:
        os.close(pidfd)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
            killpg(process.pid, signal.SIGKILL)
    else:  # Windows: no process groups to kill; the worker itself
        with contextlib.suppress(OSError):
            process.kill()
    process.wait()


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _read_regular(path: Path, size: int, *, tail: bool = False) -> bytes:
    """Up to ``size`` bytes of ``path`` (its end with ``tail``); nothing if it is not a regular
    file any more (a FIFO would block us), cannot be opened, or is gone."""
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        )
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return b""
        if tail:
            stream.seek(max(0, info.st_size - size))
        return stream.read(size)


@dataclass(frozen=True)
class Events:
    """What the worker's result file held: the authentic events, in order, and how many lines
    did not verify (written by something else, replayed, out of order)."""

    events: list[Event]
    foreign: int = 0
    #: Learner code wrote a file up to the size cap: what it wrote past it was dropped.
    output_dropped: bool = False


def _read_events(path: Path, secret: str) -> Events:
    """The worker's events: each line must parse, carry the next ``seq`` and verify under this
    run's secret. Any other line (junk, a number of 5,000 digits, JSON nested too deep, a
    replayed or forged event) is counted as foreign, never raised. Only a last line without
    its newline may be cut short (a kill mid-write) and is dropped silently."""
    events: list[Event] = []
    foreign = 0
    data = _read_regular(path, MAX_EVENT_BYTES)
    lines = data.decode("utf-8", errors="replace").split("\n")
    last = lines.pop()  # "" when the file ends with a newline
    for line in lines:
        event = _verified(line, secret, len(events))
        if event is None:
            foreign += 1
        else:
            events.append(event)
    if last:
        event = _verified(last, secret, len(events))
        if event is not None:
            events.append(event)
    return Events(events, foreign)


def _verified(line: str, secret: str, seq: int) -> Event | None:
    """The event ``line`` holds, if it is the ``seq``-th event this run's worker signed."""
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError, int() digit limits, deep nesting
        return None
    if not isinstance(event, dict):
        return None
    mac = event.pop(MAC_FIELD, None)
    if not isinstance(mac, str) or event.get(SEQ_FIELD) != seq:
        return None
    try:
        expected = event_mac(secret, event)
    except (ValueError, TypeError, RecursionError):
        return None
    if not hmac.compare_digest(mac, expected):
        return None
    del event[SEQ_FIELD]
    return cast(Event, event)  # authentic; its fields are still read defensively (_Run)


@dataclass(frozen=True)
class _Run:
    """What the runner knows about one worker run, to turn its events into a verdict."""

    specs: list[CheckSpec]
    limit: float
    memory: int
    timed_out: bool
    returncode: int | None
    stderr: bytes
    parent_killed: bool = False
    stop_at_first_failure: bool = False
    foreign_lines: int = 0
    output_dropped: bool = False

    def collect(self, events: list[Event]) -> tuple[list[CheckResult], str | None, str]:
        """Every expected check in order, the step's problem (if any) and the output tail."""
        seen = _Seen.of(events, {spec.id: spec for spec in self.specs}, self._result)
        problem = self._problem(seen.running, seen.done)
        checks: list[CheckResult] = []
        if seen.load_error is not None or (problem and not seen.results and not seen.running):
            # The exercise did not load (or never finished loading): one failure says why.
            message = seen.load_error if seen.load_error is not None else str(problem)
            checks.append(CheckResult("loads", "The exercise file loads", False, message, 0.0))
            not_run = "did not run: the exercise file does not load"
        elif self.stop_at_first_failure and seen.done and seen.any_failed:
            not_run = STOPPED_AT_FIRST_FAILURE
        elif seen.running:
            name = next(spec.name for spec in self.specs if spec.id == seen.running)
            not_run = f"did not run: the step stopped at check “{name}”"
        elif seen.stopped:
            not_run = f"did not run: {seen.stopped}"
        else:
            not_run = "did not run: the checking process stopped before it"
        stop_reason = problem or seen.stopped
        for spec in self.specs:
            if spec.id in seen.results:
                checks.append(seen.results[spec.id])
            elif spec.id == seen.running and stop_reason:
                checks.append(_failure(spec, stop_reason, ran=True))
            else:
                checks.append(_failure(spec, not_run, ran=False))
        if not checks:
            checks.append(CheckResult("checks", "The step has checks", False, "none found", 0.0))
        if stop_reason and all(check.passed for check in checks):
            # Every check passed, then the process died or hung: still a failure, with a reason.
            checks.append(
                CheckResult("finishes", "The checking process finishes", False, stop_reason, 0.0)
            )
        notes = self._with_dropped_output(checks, seen.notes)
        if notes:
            checks = _with_notes(checks, notes)
        return checks, stop_reason, seen.output

    def _with_dropped_output(self, checks: list[CheckResult], notes: list[str]) -> list[str]:
        """The notes, and one more when output was dropped (then the step fails too)."""
        if not self.output_dropped:
            return notes
        dropped = (
            f"The exercise wrote more than {format_bytes(OUTPUT_FILE_LIMIT)} to its output (or "
            "to one file): the rest was dropped, and writes past that failed (File too large)."
        )
        if all(check.passed for check in checks):
            checks.append(CheckResult("output", "Output stays within bounds", False, dropped, 0.0))
        return [*notes, dropped]

    def _result(self, spec: CheckSpec, event: Any) -> CheckResult:
        try:
            return CheckResult(
                id=spec.id,
                name=spec.name,
                passed=event["passed"] is True,
                message=str(event["message"]),
                duration_ms=float(event["duration_ms"]),
                hint=spec.hint,
                lesson=spec.lesson,
                calls=tuple(CallView(**call) for call in event["calls"]),
                call_count=int(event.get("call_count", len(event["calls"]))),
            )
        except (KeyError, TypeError, ValueError) as error:
            return _failure(spec, f"its result could not be read ({error!r})", ran=True)

    def _problem(self, running: str | None, done: bool) -> str | None:
        where = f" during check {running!r}" if running else ""
        if self.foreign_lines:
            return (
                f"The checking process's result file held {self.foreign_lines} line(s) the "
                "checker did not write (junk, a forged or replayed result): something in the "
                "exercise wrote to it, so no result of this run can be trusted. Learner code "
                "must leave the workshop's files alone."
            )
        if self.parent_killed:
            return (
                "The checking process stopped because its parent, the workshop's fork server, "
                "was killed while the checks ran, twice in a row. Does the exercise kill "
                "processes (os.kill(os.getppid(), ...))? Learner code must leave other "
                "processes alone."
            )
        if self.timed_out:
            return (
                f"The checks did not finish within {self.limit:g} s{where}: an endless loop, or "
                "a call that never returns? The step's checks were stopped."
            )
        if done:
            return None
        text = self.stderr.decode("utf-8", errors="replace")
        tail = text.strip().splitlines()[-5:]
        memory = ""
        killed = getattr(signal, "SIGKILL", None)
        if "MemoryError" in text or (killed is not None and self.returncode == -killed):
            memory = (
                f" It may have run out of memory: learner code may use at most "
                f"{format_bytes(self.memory)} (--memory-limit or WORKSHOP_MEMORY_LIMIT)."
            )
        return (
            f"The checking process ended unexpectedly (exit code {self.returncode}){where}. "
            "Does the exercise call os._exit() or crash the interpreter?"
            + memory
            + ("\n" + "\n".join(tail) if tail else "")
        )


@dataclass
class _Seen:
    """What the worker's authentic events said, keeping only expected checks, once each."""

    results: dict[str, CheckResult] = field(default_factory=dict)
    running: str | None = None
    load_error: str | None = None
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)
    output: str = ""
    done: bool = False

    @property
    def any_failed(self) -> bool:
        return any(not result.passed for result in self.results.values())

    @classmethod
    def of(
        cls,
        events: list[Event],
        expected: dict[str, CheckSpec],
        result: Callable[[CheckSpec, Any], CheckResult],
    ) -> _Seen:
        seen = cls()
        for typed in events:
            # Authentic, but read defensively: a missing or odd field is a failed check.
            event = cast(dict[str, Any], typed)
            kind, check_id = event.get("event"), event.get("id")
            fresh = check_id in expected and check_id not in seen.results
            if kind == "start" and fresh:
                seen.running = str(check_id)
            elif kind == "result" and fresh:
                seen.results[str(check_id)] = result(expected[str(check_id)], event)
                seen.running = None
            elif kind == "load-error" and seen.load_error is None:
                seen.load_error = str(event.get("message", ""))
            elif kind == "note":
                seen.notes.append(str(event.get("text", "")))
            elif kind == "stopped" and seen.stopped is None:
                seen.stopped = str(event.get("message", ""))
            elif kind == "output":
                seen.output = str(event.get("text", ""))[-OUTPUT_TAIL_CHARS:]
            elif kind == "done":
                seen.done = True
        return seen


def _failure(spec: CheckSpec, message: str, *, ran: bool) -> CheckResult:
    return CheckResult(
        id=spec.id,
        name=spec.name,
        passed=False,
        message=message,
        duration_ms=0.0,
        hint=spec.hint,
        lesson=spec.lesson,
        ran=ran,
    )


def _with_notes(checks: list[CheckResult], notes: list[str]) -> list[CheckResult]:
    """Add the notes (a learner's file named like a module) to the first failure."""
    for index, check in enumerate(checks):
        if not check.passed:
            message = "\n".join([check.message, *notes])
            checks[index] = CheckResult(
                check.id,
                check.name,
                False,
                message,
                check.duration_ms,
                check.hint,
                check.calls,
                check.lesson,
                check.call_count,
                check.ran,
            )
            break
    return checks


def _result(
    step: Step,
    exercise: Path,
    checks: list[CheckResult],
    started: float,
    problem: str | None,
    output: str = "",
) -> StepResult:
    return StepResult(
        number=step.number,
        slug=step.slug,
        title=step.title,
        exercise=exercise,
        checks=tuple(checks),
        problem=problem,
        output=output,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
