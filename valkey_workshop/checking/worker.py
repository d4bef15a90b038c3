"""The checking process: imports the learner's file and runs a step's checks.

It runs apart from the workshop process so that a syntax error, an exception, an endless loop,
``sys.exit`` or ``os._exit`` in learner code fails one step and nothing else. The runner starts
it with ``python -I`` (see :data:`BOOTSTRAP`), so neither the exercise folder nor the current
directory is on ``sys.path`` while the worker and the checks import what they need: a learner's
``json.py``, ``valkey.py`` or ``valkey_workshop/`` cannot replace them. The exercise itself is
imported by its path; its folder is then put at the END of ``sys.path``, so the learner's own
helper modules (``from helpers import x``) still import, while a file named like a standard or
installed module (``random.py``) never replaces that module. When a failing exercise imports
such a name, the failure says so.

The worker reads its job (JSON) from stdin, so the server password never appears on a command
line, and writes one JSON line per event to the result file named in the job. Every event is
numbered and signed with the run's secret (from the job; it is removed from everything learner
code can reach easily, and never written to the file), and the runner fails the step if the
file holds any line that does not verify: an accident (a stray write to a wrong descriptor)
cannot pass for a result. This is no defence against learner code set on cheating, which runs
in this process and can dig the secret out of its memory (README: "What a verdict proves").
Whatever learner code prints is captured (only its tail is kept).

The job and the events are typed in :mod:`.protocol`: ``start``, ``result``, ``load-error``,
``note``, ``stopped`` (the checks ended early), ``output`` and ``done``. The job names the
checks to run, in their order, and whether the run stops at the first failure.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import hmac
import importlib.util
import io
import json
import marshal
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import CodeType, ModuleType
from typing import IO, Any, NoReturn, cast

import valkey

from valkey_workshop.checking.api import (
    CheckContext,
    CheckFailed,
    CheckFunction,
    CheckSpec,
    checks_in,
    describe_exception,
)
from valkey_workshop.checking.protocol import (
    MAC_FIELD,
    SEQ_FIELD,
    DoneEvent,
    Event,
    Job,
    LoadErrorEvent,
    NoteEvent,
    OutputEvent,
    ResultEvent,
    StartEvent,
    StoppedEvent,
    decode_job,
)
from valkey_workshop.checking.results import CallView
from valkey_workshop.checking.specs import chosen, load_checks
from valkey_workshop.pyfile import load_file_as_module

#: Calls listed per check; more are summarised by the renderer from the count.
MAX_CALLS_PER_CHECK = 50
#: Printed output kept (the tail): learner code printing in a loop must not fill memory.
OUTPUT_TAIL_CHARS = 4000
#: A message longer than this is cut in the middle (an exception can carry megabytes).
MAX_MESSAGE_CHARS = 4000

#: How the runner starts the worker: ``python -I -B -c BOOTSTRAP [path ...]``. Isolated mode
#: keeps the current directory, the script's folder and PYTHON* variables off ``sys.path``; the
#: arguments add the workshop process's own path entries (an editable install, ``--user``, a
#: PYTHONPATH) after the interpreter's defaults.
BOOTSTRAP = (
    "import sys\n"
    "sys.path.extend(p for p in sys.argv[1:] if p not in sys.path)\n"
    "del sys.argv[1:]\n"
    "from valkey_workshop.checking.worker import main\n"
    "main()\n"
)

_PR_SET_PDEATHSIG = 1


def describe_load_error(error: BaseException, path: Path) -> str:
    """Why the learner's file did not import, with the line to look at."""
    if isinstance(error, SyntaxError):
        line = f": {error.text.strip()}" if error.text else ""
        return (
            f"{path.name} line {error.lineno} has a syntax error ({error.msg}){line}. "
            "Fix it and check again."
        )
    if isinstance(error, SystemExit):
        return f"{path.name} called sys.exit({error.code!r}) while loading; remove that call."
    return f"{path.name} does not load: {_describe(error, path)}"


#: Bound at import, before learner code runs: patching ``json.dumps`` or ``hmac.new`` later
#: does not change what the events say (it makes them fail to verify, at most).
_dumps = json.dumps
_hmac_new = hmac.new


def event_mac(secret: str, event: dict[str, Any]) -> str:
    """The signature of one event (with its ``seq``): HMAC-SHA256 under the run's secret, over
    the event's canonical JSON. The runner recomputes it; the secret is never in the file."""
    canonical = _dumps(event, sort_keys=True, separators=(",", ":"))
    return _hmac_new(secret.encode(), canonical.encode(), "sha256").hexdigest()


class _Events:
    """The event stream to the runner: each event is numbered (``seq``, from 0) and signed
    (``mac``) with the run's secret, which is never written."""

    def __init__(self, stream: IO[str], secret: str) -> None:
        self._stream = stream
        self._secret = secret
        self._seq = 0

    def emit(self, event: Event) -> None:
        signed: dict[str, Any] = {**event, SEQ_FIELD: self._seq}
        self._seq += 1
        signed[MAC_FIELD] = event_mac(self._secret, signed)
        self._stream.write(_dumps(signed) + "\n")
        self._stream.flush()


class TailBuffer(io.TextIOBase):
    """A text stream (for ``redirect_stdout``) that keeps only the last ``limit`` characters;
    like ``io.StringIO`` otherwise, so learner code that asks a stream questions still runs."""

    def __init__(self, limit: int = OUTPUT_TAIL_CHARS) -> None:
        super().__init__()
        self._limit = limit
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self._limit:
            kept = "".join(self._parts)[-self._limit :]
            self._parts, self._size = [kept], len(kept)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)[-self._limit :]


def _cut(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    head = MAX_MESSAGE_CHARS * 3 // 4
    tail = MAX_MESSAGE_CHARS // 8
    return f"{message[:head]} … ({len(message) - head - tail} characters cut) … {message[-tail:]}"


def _describe(error: BaseException, path: Path) -> str:
    """describe_exception, even when the exception's own ``__str__`` misbehaves."""
    try:
        return describe_exception(error, path)
    except BaseException:  # noqa: BLE001 - learner exceptions may raise from __str__
        return type(error).__name__


def _memory_note(memory_limit: int | None) -> str:
    if not memory_limit:
        return ""
    return (
        f" Learner code may use at most {format_bytes(memory_limit)} of memory "
        "(--memory-limit or WORKSHOP_MEMORY_LIMIT to change it)."
    )


def format_bytes(count: int) -> str:
    """``1 GiB``, ``512 MiB``, ``1.5 GiB``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.4g} {unit}"
    return f"{count} bytes"


def run_job(
    job: Job, events: _Events, captured: TailBuffer, memory_limit: int | None = None
) -> None:
    """Run the checks ``job`` names, in its order (stopping at the first failure when it says
    so); every outcome is reported as an event."""
    exercise_file = Path(job["exercise"]).resolve()
    checks = _job_checks(job)
    if job["only"] is not None:
        by_id = {spec.id: (spec, function) for spec, function in checks}
        checks = [by_id[spec.id] for spec in chosen([spec for spec, _ in checks], job["only"])]
    folder = str(exercise_file.parent)
    if folder not in sys.path:
        sys.path.append(folder)  # the learner's own helper modules, after everything else
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            exercise = load_file_as_module(exercise_file, "exercise")
    except BaseException as error:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        message = describe_load_error(error, exercise_file)
        if isinstance(error, MemoryError):
            message += _memory_note(memory_limit)
        events.emit(LoadErrorEvent(event="load-error", message=_cut(message)))
        _note_shadowed(events, exercise_file)
        return

    context: CheckContext | None = None
    failed = False
    current: str | None = None
    try:
        context = CheckContext(exercise, exercise_file, job["url"], seed=job.get("seed"))
        for spec, function in checks:
            current = spec.id
            events.emit(StartEvent(event="start", id=spec.id))
            passed = _run_check(function, context, spec.id, events, captured, memory_limit)
            failed = failed or not passed
            current = None
            if failed and job["stop_at_first_failure"]:
                break  # the runner reports the checks after this one as not run
    except BaseException as error:  # noqa: BLE001 - whatever ended the loop is reported
        failed = True
        where = f" during check {current!r}" if current else ""
        reason = _describe(error, exercise_file)
        stopped = _cut(f"the checks stopped{where}: {reason}")
        events.emit(StoppedEvent(event="stopped", message=stopped))
    finally:
        if context is not None:
            with contextlib.suppress(Exception):
                context.close()
    if failed:
        _note_shadowed(events, exercise_file)


#: The module name the step's checks run under in a worker.
CHECKS_MODULE = "workshop_step_checks"


def _job_checks(job: Job) -> list[tuple[CheckSpec, CheckFunction]]:
    """The step's checks: the code the runner compiled (``checks_code``), run as the module
    the file would import as, or else the file itself, imported."""
    path = Path(job["checks"])
    compiled = job.get("checks_code")
    if compiled is None:
        return load_checks(path, CHECKS_MODULE)
    # The job comes from the runner, read before any learner code runs: trusted input.
    code = cast(CodeType, marshal.loads(base64.b64decode(compiled)))  # noqa: S302 - see above
    spec = importlib.util.spec_from_file_location(CHECKS_MODULE, path)
    if spec is None:
        return load_checks(path, CHECKS_MODULE)
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[CHECKS_MODULE] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - the runner's compile of the course's checks.py
    except BaseException:
        sys.modules.pop(CHECKS_MODULE, None)
        raise
    return checks_in(module)


def _run_check(
    function: CheckFunction,
    context: CheckContext,
    check_id: str,
    events: _Events,
    captured: TailBuffer,
    memory_limit: int | None,
) -> bool:
    """Run one check and report its result; whatever learner code raises fails it."""
    exercise_file = context.exercise_file
    context.begin()
    started = time.perf_counter()
    passed, message = True, ""
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            function(context)
    except CheckFailed as failure:
        passed, message = False, str(failure)
    except SystemExit as error:
        passed, message = False, f"the code called sys.exit({error.code!r}) during this check."
    except BaseException as error:  # noqa: BLE001 - KeyboardInterrupt, GeneratorExit, ... fail the check
        passed = False
        message = f"raised {_describe(error, exercise_file)}"
        ours = isinstance(error, Exception) and not _mentions(error, exercise_file)
        if ours and isinstance(error, valkey.ConnectionError | valkey.TimeoutError):
            # The check's own connection failed: the server, not the code, is the news.
            message = (
                "the Valkey server stopped answering during this check "
                f"({_describe(error, exercise_file)}). This says nothing about your code: "
                "check again once the server runs."
            )
        elif ours and isinstance(error, valkey.ResponseError) and str(error).startswith("BUSY"):
            # The learner's code left a script running (EVAL "while true do end"): the server
            # answers nothing else until it is killed. Say that, not where the check noticed.
            message = (
                "the server is busy running a script that does not end (a Lua loop started by "
                "your code?), so nothing else could run. The script is killed after the step; "
                "make the code return."
            )
        elif ours:
            # Not the learner's frame: a bug in the check itself; keep the details.
            message += "\n" + "".join(traceback.format_exception(error)).strip()
    duration_ms = (time.perf_counter() - started) * 1000
    if passed:
        message = " ".join(context.notes)
    elif "MemoryError" in message:
        message += _memory_note(memory_limit)
    calls = context.learner_calls()
    events.emit(
        ResultEvent(
            event="result",
            id=check_id,
            passed=passed,
            message=_cut(message),
            duration_ms=duration_ms,
            calls=[CallView.of(call).to_json() for call in calls[:MAX_CALLS_PER_CHECK]],
            call_count=len(calls),
        )
    )
    return passed


def shadowed_imports(exercise_file: Path) -> list[str]:
    """Why a file beside the exercise did not do what its name suggests: one sentence per
    module the exercise imports that a file or folder beside it is named after, while Python
    took that module from elsewhere (the standard library, an installed package)."""
    try:
        tree = ast.parse(exercise_file.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module.split(".")[0])
    folder = exercise_file.parent
    found = []
    for name in dict.fromkeys(names):
        local = _local_module(folder, name)
        if local is None or local == exercise_file:
            continue
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module is not None else None
        if origin is not None and Path(origin).resolve().is_relative_to(folder):
            continue  # the learner's file is the one in use
        where = f"from {Path(origin).parent}" if origin else "as a built-in module"
        kind = "folder" if local.is_dir() else "file"
        found.append(
            f"Note: {exercise_file.name} imports {name}, and your {kind} {local.name} beside it "
            f"has that name. Python imports the real {name} ({where}), not your {kind}: files "
            "beside the exercise never replace standard or installed modules. Rename your "
            f"{kind} (e.g. my_{name}) and import it by that name."
        )
    return found


def _local_module(folder: Path, name: str) -> Path | None:
    """``name.py`` in ``folder``, or a ``name/`` folder holding Python files (a folder of data
    that happens to share a module's name is no module)."""
    file = folder / f"{name}.py"
    if file.is_file():
        return file
    package = folder / name
    if package.is_dir() and any(package.glob("*.py")):
        return package
    return None


def _note_shadowed(events: _Events, exercise_file: Path) -> None:
    with contextlib.suppress(Exception):
        for text in shadowed_imports(exercise_file):
            events.emit(NoteEvent(event="note", text=text))


def _mentions(error: BaseException, path: Path) -> bool:
    return any(
        Path(frame.filename).resolve() == path
        for frame in traceback.extract_tb(error.__traceback__)
    )


def die_with_parent() -> None:
    """Ask Linux to kill this process when the workshop process dies (even by SIGKILL).

    Linux ties this to the thread that started us; the runner waits for us in that thread, so
    it outlives us unless the whole workshop process dies. Processes learner code starts do
    not inherit it: the runner's process-group kill stops those."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere the runner's process-group kill is the clean-up
    with contextlib.suppress(Exception):
        import ctypes  # noqa: PLC0415 - only needed on Linux, and only here

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def guard_group(scratch: Path, watched: int = 0) -> None:
    """Fork a small guard that stops this whole process group, learner code's own child
    processes included, once the other end of the pipe ``watched`` (our stdin from the runner,
    or a pipe from the fork server) closes, which the kernel does when that process dies, even
    by SIGKILL. The runner (or fork server) itself kills the group (guard included) before it
    closes the pipe, so a guard that sees the end knows its keeper is gone: it also removes the
    runner's scratch folder, which nobody else would."""
    if not hasattr(os, "fork") or not hasattr(os, "killpg"):
        return  # Windows: the runner's clean-up is all there is
    try:
        pid = os.fork()
    except OSError:
        return
    if pid != 0:
        return
    try:  # the guard: nothing but a blocking read, then one kill
        with contextlib.suppress(OSError):
            while os.read(watched, 4096):
                pass
        if scratch.name.startswith("workshop-check-"):
            import shutil  # noqa: PLC0415 - only the guard needs it

            shutil.rmtree(scratch, ignore_errors=True)
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(0)


#: Largest file learner code (and what it starts) may write, its captured stdout and stderr
#: included: 300 MB printed to the real stdout once grew the output file without bound.
#: Writes past it fail (EFBIG: SIGXFSZ is ignored) and the runner says the rest was dropped.
OUTPUT_FILE_LIMIT = 32 << 20


def _limit_memory(limit: int | None) -> None:
    """Cap the memory learner code can take (RLIMIT_DATA on Linux, RLIMIT_AS elsewhere), and
    the size of any file it writes. Soft and hard limits both: learner code cannot raise a
    limit whose hard limit is set (``setrlimit(RLIMIT_DATA, (inf, inf))`` fails)."""
    with contextlib.suppress(Exception):
        import resource  # noqa: PLC0415 - POSIX only

        kinds = [(resource.RLIMIT_FSIZE, OUTPUT_FILE_LIMIT)]
        if limit:
            linux = sys.platform.startswith("linux")
            kinds.append((resource.RLIMIT_DATA if linux else resource.RLIMIT_AS, limit))
        for kind, wanted in kinds:
            _, hard = resource.getrlimit(kind)
            cap = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(kind, (cap, cap))
        if hasattr(signal, "SIGXFSZ"):
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails, no kill


def main() -> None:
    """The worker started as a process of its own (``python -I -c BOOTSTRAP``)."""
    die_with_parent()
    # One line: the runner keeps our stdin open for the whole run (see guard_group).
    job = decode_job(sys.stdin.buffer.readline())
    if job.pop("parent_pid", None) != os.getppid():
        os._exit(3)  # the workshop process died before we started: nothing to report to
    guard_group(Path(job["result_file"]).parent)
    run_and_exit(job)


def run_and_exit(job: Job) -> NoReturn:
    """Run ``job`` in this (worker) process, write its events, and leave."""
    # Learner code reads neither the job nor the secret: stdin is closed, the secret lives
    # only inside the event stream (the job keeps none).
    secret, job["secret"] = job["secret"], ""
    memory_limit = job["memory_limit"]
    result_file = job["result_file"]
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    sys.stdin = Path(os.devnull).open(encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    captured = TailBuffer()
    with Path(result_file).open("a", encoding="utf-8") as stream:
        events = _Events(stream, secret)
        del secret
        try:
            _limit_memory(memory_limit)
            run_job(job, events, captured, memory_limit)
        finally:
            events.emit(OutputEvent(event="output", text=captured.getvalue()))
            events.emit(DoneEvent(event="done"))
    # Leave at once, even if learner code left non-daemon threads running.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
