"""Check runs and demos under the server guard (``server/guard.py``), on any proof lane.

``check``, ``verify``, the guided session and the presenter all run learner code and demos
through these, so a step that changes server-wide state is refused on a server holding others'
data, settings are put back after every run, and a stopped server is said, not crashed on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from valkey_workshop.checking.protocol import ALL_CHECKS, CheckSelection
from valkey_workshop.checking.results import StepResult
from valkey_workshop.checking.runner import run_step_checks
from valkey_workshop.content.models import Step
from valkey_workshop.demo import DemoOutcome
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import GuardedRun, guard_for


def guarded_checks(
    step: Step,
    exercise: Path,
    server: ServerInfo,
    time_limit_seconds: float | None = None,
    restart_stopped: bool = True,
    selection: CheckSelection = ALL_CHECKS,
) -> GuardedRun[StepResult]:
    """One check run of ``exercise`` under the server guard (``selection``: which of the
    step's checks run, and whether the run stops at the first failure)."""
    guard = guard_for(server)
    return guard.run(
        step,
        lambda: run_step_checks(
            step, exercise, guard.server.url, time_limit_seconds, selection=selection
        ),
        restart=restart_stopped,
    )


def step_result_of(step: Step, exercise: Path, run: GuardedRun[StepResult]) -> StepResult:
    """The step's result, or a "not run" result saying why (refused, or the server stopped)."""
    if run.refusal is not None:
        reason = run.refusal.message
    elif run.aftermath.stopped or run.value is None:
        reason = "The server stopped during these checks, so they give no verdict."
    elif (refused := _refused_command(run.value)) is not None:
        # The URL's user lacks a right the checks need (an ACL): no verdict on the code.
        reason = (
            f"Step {step.label} cannot run here: the server refused a command to this user "
            f"({refused}). Nothing was recorded. Run it on the workshop's own server: "
            "--backend embedded."
        )
    else:
        return run.value
    return StepResult(step.number, step.slug, step.title, exercise, (), not_run=reason)


#: How the server says that a user may not run a command or touch a key (an ACL).
_NO_PERMISSION = re.compile(r"(?:NOPERM|NoPermissionError:?)\s*(.*)|(\S.*has no permissions.*)")


def _refused_command(result: StepResult) -> str | None:
    """The server's refusal (an ACL's NOPERM) that failed some check, or None."""
    for text in (result.problem or "", *(check.message for check in result.failures)):
        for line in text.splitlines():
            found = _NO_PERMISSION.search(line)
            if found:
                refusal = (found.group(1) or found.group(2) or line).strip()
                return refusal if len(refusal) <= 160 else refusal[:157] + "..."
    return None


def guarded_demo(
    step: Step, server: ServerInfo, demo: Callable[[str], DemoOutcome]
) -> GuardedRun[DemoOutcome]:
    """A demo run (``demo(url)``) under the server guard: refused like the step's checks on a
    server holding others' data; settings put back afterwards, even when the demo raises."""
    guard = guard_for(server)
    return guard.run(step, lambda: demo(guard.server.url))


def lane_server(server: ServerInfo, url: str, *, private: bool) -> ServerInfo:
    """The server behind a proof lane's ``url``: the session's own, or a lane of it (a private
    spare server, or another database of the same server), which is never restarted."""
    if url == server.url:
        return server
    return replace(server, url=url, private=private or server.private, restart=None)
