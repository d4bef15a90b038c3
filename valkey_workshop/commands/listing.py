"""``workshop list``: the modules, or one module's steps with their status in a workdir."""

from __future__ import annotations

from valkey_workshop.content.models import Module, Step
from valkey_workshop.results.status import ModuleStatus, StepStatus
from valkey_workshop.session.progress import Progress
from valkey_workshop.session.workdir import Workdir

__all__ = ["ModuleStatus", "StepStatus", "module_status"]


def module_status(module: Module, workdir: Workdir) -> ModuleStatus:
    """Every step of ``module`` with its progress in ``workdir``."""
    loaded = workdir.progress.load()
    return ModuleStatus(
        module=module,
        steps=tuple(_step_status(step, loaded.progress, workdir) for step in module.steps),
        warning=loaded.warning,
    )


def _step_status(step: Step, progress: Progress, workdir: Workdir) -> StepStatus:
    return StepStatus(step, progress.peek(step.module_id, step.slug), workdir.exercise_path(step))
