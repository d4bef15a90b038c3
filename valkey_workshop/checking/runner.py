"""Runs one step's checks in a worker process, with a time limit, and collects the results."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from valkey_workshop.checking.results import CallView, CheckResult, StepResult
from valkey_workshop.content.models import Step


def run_step_checks(
    step: Step,
    exercise: Path,
    url: str,
    time_limit_seconds: float | None = None,
    checks_file: Path | None = None,
) -> StepResult:
    """Check ``exercise`` against ``step``'s checks on the server at ``url``.

    Never raises for anything learner code does: a syntax error, an exception, an endless
    loop, ``sys.exit`` or a crash of the interpreter come back as a failed step whose
    ``problem`` or check messages say what happened.
    """
    limit = time_limit_seconds if time_limit_seconds is not None else step.time_limit_seconds
    started = time.perf_counter()
    if not exercise.is_file():
        return _result(step, exercise, [], started, f"{exercise} does not exist.")

    with tempfile.TemporaryDirectory(prefix="workshop-check-") as scratch:
        result_file = Path(scratch) / "events.jsonl"
        result_file.touch()
        job = {
            "checks": str(checks_file or step.checks),
            "exercise": str(exercise),
            "url": url,
            "result_file": str(result_file),
        }
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "valkey_workshop.checking.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=exercise.parent,
            env=env,
            # Own process group: we can stop learner code and anything it started, and a
            # Ctrl-C in the terminal reaches the workshop first.
            start_new_session=True,
        )
        problem: str | None = None
        try:
            _, stderr = process.communicate(json.dumps(job).encode(), timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stderr = b""
            problem = "timeout"
        finally:
            if process.poll() is None:  # Ctrl-C or another exception while waiting
                _kill_group(process)
        events = _read_events(result_file)

    return _collect(step, exercise, events, started, problem, limit, process.returncode, stderr)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by a kill: everything before it stands
    return events


def _collect(
    step: Step,
    exercise: Path,
    events: list[dict[str, Any]],
    started: float,
    timeout: str | None,
    limit: float,
    returncode: int | None,
    stderr: bytes,
) -> StepResult:
    checks: list[CheckResult] = []
    running: str | None = None
    output = ""
    done = False
    for event in events:
        kind = event.get("event")
        if kind == "start":
            running = event["id"]
        elif kind == "result":
            running = None
            checks.append(
                CheckResult(
                    id=event["id"],
                    name=event["name"],
                    passed=event["passed"],
                    message=event["message"],
                    duration_ms=event["duration_ms"],
                    hint=event["hint"],
                    lesson=event.get("lesson"),
                    calls=tuple(CallView(**call) for call in event["calls"]),
                    call_count=event.get("call_count", len(event["calls"])),
                )
            )
        elif kind == "load-error":
            checks.append(
                CheckResult("loads", "The exercise file loads", False, event["message"], 0.0)
            )
        elif kind == "output":
            output = event["text"]
        elif kind == "done":
            done = True

    problem: str | None = None
    where = f" during check {running!r}" if running else ""
    if timeout:
        problem = (
            f"The checks did not finish within {limit:g} s{where}: an endless loop, or a call "
            "that never returns? The step's checks were stopped."
        )
    elif not done:
        tail = stderr.decode("utf-8", errors="replace").strip().splitlines()[-5:]
        problem = (
            f"The checking process ended unexpectedly (exit code {returncode}){where}. "
            "Does the exercise call os._exit() or crash the interpreter?"
            + ("\n" + "\n".join(tail) if tail else "")
        )
    return _result(step, exercise, checks, started, problem, output)


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
