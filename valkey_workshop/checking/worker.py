"""The checking process: imports the learner's file and runs a step's checks.

It runs apart from the workshop process so that a syntax error, an exception, an endless loop,
``sys.exit`` or ``os._exit`` in learner code fails one step and nothing else. It reads its job
(JSON) from stdin, so the server password never appears on a command line, and writes one JSON
line per event to the result file named in the job; whatever learner code prints is captured.

Events: ``{"event": "start", "id": ...}``, ``{"event": "result", ...CheckResult}``,
``{"event": "load-error", "message": ...}``, ``{"event": "done"}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any

from valkey_workshop.checking.api import CheckContext, CheckFailed, checks_in, describe_exception
from valkey_workshop.checking.results import CallView
from valkey_workshop.pyfile import load_file_as_module

#: Calls listed per check; more are summarised by the renderer from the count.
MAX_CALLS_PER_CHECK = 50


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
    return f"{path.name} does not load: {describe_exception(error, path)}"


class _Events:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def emit(self, **event: Any) -> None:
        self._stream.write(json.dumps(event) + "\n")
        self._stream.flush()


def run_job(job: dict[str, Any], events: _Events, captured: io.StringIO) -> None:
    """Run one step's checks; every outcome is reported as an event."""
    exercise_file = Path(job["exercise"]).resolve()
    checks_module = load_file_as_module(Path(job["checks"]), "workshop_step_checks")
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            exercise = load_file_as_module(exercise_file, "exercise")
    except BaseException as error:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        events.emit(event="load-error", message=describe_load_error(error, exercise_file))
        return

    context = CheckContext(exercise, exercise_file, job["url"])
    try:
        for spec, function in checks_in(checks_module):
            events.emit(event="start", id=spec.id)
            context.begin()
            started = time.perf_counter()
            passed, message = True, ""
            try:
                with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                    function(context)
            except CheckFailed as failure:
                passed, message = False, str(failure)
            except SystemExit as error:
                passed, message = (
                    False,
                    f"the code called sys.exit({error.code!r}) during this check.",
                )
            except Exception as error:  # noqa: BLE001 - reported as the check's failure
                passed = False
                message = f"raised {describe_exception(error, exercise_file)}"
                if not _mentions(error, exercise_file):
                    # Not the learner's frame: a bug in the check itself; keep the details.
                    message += "\n" + "".join(traceback.format_exception(error)).strip()
            duration_ms = (time.perf_counter() - started) * 1000
            if passed:
                message = " ".join(context.notes)
            calls = context.learner_calls()
            events.emit(
                event="result",
                id=spec.id,
                name=spec.name,
                passed=passed,
                message=message,
                duration_ms=duration_ms,
                hint=spec.hint,
                lesson=spec.lesson,
                calls=[CallView.of(call).to_json() for call in calls[:MAX_CALLS_PER_CHECK]],
                call_count=len(calls),
            )
    finally:
        context.close()


def _mentions(error: BaseException, path: Path) -> bool:
    return any(
        Path(frame.filename).resolve() == path
        for frame in traceback.extract_tb(error.__traceback__)
    )


def main() -> None:
    job = json.loads(sys.stdin.read())
    captured = io.StringIO()
    with Path(job["result_file"]).open("a", encoding="utf-8") as stream:
        events = _Events(stream)
        try:
            run_job(job, events, captured)
        finally:
            events.emit(event="output", text=captured.getvalue()[-4000:])
            events.emit(event="done")
    # Leave at once, even if learner code left non-daemon threads running.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
