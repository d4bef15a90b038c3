"""The guided session (``workshop start``) as a small state machine; the CLI drives the keys."""

from __future__ import annotations

from dataclasses import dataclass

import valkey

from valkey_workshop.checking.results import StepResult
from valkey_workshop.content.lesson import live_lesson
from valkey_workshop.content.models import Module, Step
from valkey_workshop.operations import (
    HintReveal,
    SolutionView,
    check_steps,
    module_status,
    reveal_hint,
    solution_for,
)
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.session.workdir import Workdir


@dataclass(frozen=True)
class Action:
    key: str
    label: str


CHECK = Action("c", "check")
HINT = Action("h", "hint")
DEMO = Action("d", "demo again")
SOLUTION = Action("s", "solution")
NEXT = Action("n", "next step")
QUIT = Action("q", "quit")


def live_lesson_text(step: Step, url: str) -> str:
    """``step``'s lesson with the live values of the server at ``url`` filled in."""
    server = valkey.Valkey.from_url(url, decode_responses=True)
    try:
        return live_lesson(step.lesson, server)
    finally:
        server.close()


class GuidedSession:
    """Where the learner is in a module and what they may do next."""

    def __init__(
        self, module: Module, workdir: Workdir, server: ServerInfo, start_at: Step | None = None
    ) -> None:
        self.module = module
        self.workdir = workdir
        self.server = server
        self.created = tuple(workdir.prepare(module))
        status = module_status(module, workdir)
        self.warning = status.warning
        first = start_at or status.next_step or module.steps[0]
        self.index = module.steps.index(first)
        self.resumed = start_at is None and self.index > 0
        self.last_result: StepResult | None = None

    @property
    def step(self) -> Step:
        return self.module.steps[self.index]

    @property
    def exercise(self):  # type: ignore[no-untyped-def] # Path; kept short for the CLI
        return self.workdir.exercise_path(self.step)

    @property
    def passed(self) -> bool:
        progress = self.workdir.progress.load().progress
        return progress.peek(self.module.id, self.step.slug).ever_passed

    def actions(self) -> list[Action]:
        actions = [CHECK, HINT, DEMO]
        if self.passed:
            actions.append(SOLUTION)
        if self.index + 1 < len(self.module.steps):
            actions.append(NEXT)
        actions.append(QUIT)
        return actions

    def lesson(self) -> str:
        """The step's lesson with this server's live values filled in."""
        return live_lesson_text(self.step, self.server.url)

    def check(self) -> StepResult:
        outcome = check_steps(self.module, (self.step,), self.workdir, self.server)
        self.last_result = outcome.report.steps[0]
        return self.last_result

    def hint(self) -> HintReveal:
        return reveal_hint(self.module, self.step, self.workdir)

    def solution(self) -> SolutionView:
        return solution_for(self.module, self.step, self.workdir, force=False)

    def advance(self) -> bool:
        """Move to the next step; False when there is none."""
        if self.index + 1 >= len(self.module.steps):
            return False
        self.index += 1
        self.last_result = None
        return True
