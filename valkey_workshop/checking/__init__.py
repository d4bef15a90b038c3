"""Checks a step's exercise against the live server, in a separate process with a time limit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from valkey_workshop.checking.results import CallView, CheckReport, CheckResult, StepResult

if TYPE_CHECKING:
    from valkey_workshop.checking.runner import run_step_checks

__all__ = ["CallView", "CheckReport", "CheckResult", "StepResult", "run_step_checks"]


def __getattr__(name: str) -> Any:
    # The checking process imports this package too, but never needs the runner (nor the
    # subprocess machinery it imports): loading it lazily keeps every check's start fast.
    if name == "run_step_checks":
        from valkey_workshop.checking.runner import run_step_checks  # noqa: PLC0415 - see above

        return run_step_checks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
