"""``workshop solution``: the reference solution, once the step has passed."""

from __future__ import annotations

from valkey_workshop import naming
from valkey_workshop.content.models import Module, Step
from valkey_workshop.errors import UsageError
from valkey_workshop.results.step import SolutionView
from valkey_workshop.session.workdir import Workdir

__all__ = ["SolutionView", "solution_for"]


def solution_for(module: Module, step: Step, workdir: Workdir, force: bool) -> SolutionView:
    """The reference solution, once the step has passed (or with ``force``).

    Raises:
        UsageError: the step has not passed yet and ``force`` is not set, or the learner's
            file leads outside the workdir.
    """
    entry = workdir.progress.load().progress.peek(module.id, step.slug)
    if not entry.ever_passed and not force:
        raise UsageError(
            f"Step {step.label} has not passed yet, so its solution stays hidden. Try "
            f"`{naming.program()} hint {module.id} {step.slug}`, or use --force to see it anyway."
        )
    learner = workdir.inside(workdir.exercise_path(step))
    try:
        # A learner's file need not be UTF-8; it is shown, not run, here.
        learner_code = learner.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        learner_code = None
    except OSError as error:
        raise UsageError(f"Cannot read {learner}: {error.strerror or error}.") from error
    return SolutionView(
        step=step,
        code=step.solution.read_text(encoding="utf-8"),
        learner_file=learner,
        learner_code=learner_code,
        forced=not entry.ever_passed,
    )
