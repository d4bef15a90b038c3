"""The time a learner spends on a step (the guided session adds it; ``list`` shows it)."""

from __future__ import annotations

from valkey_workshop.content.models import Module, Step
from valkey_workshop.session.workdir import Workdir


def add_time_spent(module: Module, step: Step, workdir: Workdir, seconds: float) -> None:
    """Add to the time the learner spent on ``step`` (shown by ``list`` and the summary)."""
    with workdir.progress.update() as progress:
        progress.add_time(module.id, step.slug, seconds)
