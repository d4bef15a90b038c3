"""The time a learner spends on a step (the guided session adds it; ``list`` shows it)."""

from __future__ import annotations

from valkey_workshop.content.models import Module, Step
from valkey_workshop.results.step import TimeSpent
from valkey_workshop.session.workdir import Workdir

__all__ = ["TimeSpent", "add_time_spent"]


def add_time_spent(module: Module, step: Step, workdir: Workdir, seconds: float) -> TimeSpent:
    """Add to the time the learner spent on ``step`` (shown by ``list`` and the summary); a
    negative duration (a clock set back) adds nothing."""
    with workdir.progress.update() as progress:
        entry = progress.step(module.id, step.slug)
        before = entry.seconds_spent
        progress.add_time(module.id, step.slug, seconds)
    return TimeSpent(step, entry.seconds_spent - before, entry)
