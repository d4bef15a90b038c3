"""``workshop skip``: a step marked skipped (not passed)."""

from __future__ import annotations

from valkey_workshop.classroom.membership import ClassPublisher
from valkey_workshop.content.models import Module, Step
from valkey_workshop.results.step import SkipOutcome
from valkey_workshop.session.workdir import Workdir

__all__ = ["SkipOutcome", "skip_step"]


def skip_step(module: Module, step: Step, workdir: Workdir) -> SkipOutcome:
    """Mark ``step`` skipped (not passed); ``start`` and ``watch`` then move past it."""
    with workdir.progress.update() as progress:
        entry = progress.skip(module.id, step.slug)
    ClassPublisher(workdir.root).publish(
        [{"kind": "skip", "module": module.id, "step": str(step.number), "slug": step.slug}]
    )
    return SkipOutcome(step, entry)
