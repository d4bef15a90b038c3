"""``workshop hint``: a step's hints, revealed one at a time and remembered."""

from __future__ import annotations

from valkey_workshop.content.models import Module, Step
from valkey_workshop.errors import UsageError
from valkey_workshop.results.step import HintReveal
from valkey_workshop.session.workdir import Workdir

__all__ = ["HintReveal", "reveal_hint"]


def reveal_hint(
    module: Module, step: Step, workdir: Workdir, number: int | None = None
) -> HintReveal:
    """Hint ``number`` of ``step`` (revealing it and the ones before it), or the next one
    (the last one again once all are revealed).

    Raises:
        UsageError: ``step`` has no hint ``number``.
    """
    if number is not None and not 1 <= number <= len(step.hints):
        raise UsageError(
            f"Step {step.label} has hints 1 to {len(step.hints)}; there is no hint {number}."
        )
    with workdir.progress.update() as progress:
        entry = progress.step(module.id, step.slug)
        if number is None:
            number = min(entry.hints_revealed + 1, len(step.hints))
        entry.hints_revealed = max(entry.hints_revealed, number)
    return HintReveal(step, number, len(step.hints), step.hints[number - 1])
