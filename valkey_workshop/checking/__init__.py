"""Checks a step's exercise against the live server, in a separate process with a time limit."""

from valkey_workshop.checking.results import CallView, CheckReport, CheckResult, StepResult
from valkey_workshop.checking.runner import run_step_checks

__all__ = ["CallView", "CheckReport", "CheckResult", "StepResult", "run_step_checks"]
