"""``workshop reset``: starters restored, every replaced learner file backed up first."""

from __future__ import annotations

from valkey_workshop.content.models import Module, Step
from valkey_workshop.session.workdir import ResetOutcome, Workdir


def reset_steps(module: Module, steps: tuple[Step, ...], workdir: Workdir) -> list[ResetOutcome]:
    """Restore the starters of ``steps``, keeping a backup of every learner file replaced."""
    return [workdir.reset(step) for step in steps]
