"""``workshop reset``: starters restored, every replaced learner file backed up first."""

from __future__ import annotations

from valkey_workshop.content.models import Module, Step
from valkey_workshop.results.reset import ResetReport
from valkey_workshop.session.workdir import Workdir

__all__ = ["ResetReport", "reset_steps"]


def reset_steps(module: Module, steps: tuple[Step, ...], workdir: Workdir) -> ResetReport:
    """Restore the starters of ``steps``, keeping a backup of every learner file replaced;
    each step is then recorded as not passed now (``list`` says "passed before")."""
    outcomes = []
    for step in steps:
        outcomes.append(workdir.reset(step))
        # After the file: a reset that could not write the starter leaves the status as it was.
        with workdir.progress.update() as progress:
            progress.reset(module.id, step.slug)
    return ResetReport(module, tuple(outcomes))
