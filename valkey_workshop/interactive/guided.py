"""The guided session (``workshop start``) as a small state machine; the CLI drives the keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import valkey

from valkey_workshop.checking.results import StepResult
from valkey_workshop.commands.check import check_steps
from valkey_workshop.commands.hint import reveal_hint
from valkey_workshop.commands.listing import module_status
from valkey_workshop.commands.skip import skip_step
from valkey_workshop.commands.solution import solution_for
from valkey_workshop.commands.summary import module_summary
from valkey_workshop.commands.time_spent import add_time_spent
from valkey_workshop.content.lesson import live_lesson
from valkey_workshop.content.models import Module, Step
from valkey_workshop.interactive.live import LiveServer
from valkey_workshop.results.check import CheckOutcome
from valkey_workshop.results.status import ModuleSummary
from valkey_workshop.results.step import HintReveal, SolutionView
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.session.workdir import Workdir


@dataclass(frozen=True)
class Action:
    key: str
    label: str


CHECK = Action("c", "check (or Enter)")
HINT = Action("h", "hint")
DEMO = Action("d", "demo")
LESSON = Action("l", "lesson")
SOLUTION = Action("s", "solution")
NEXT = Action("n", "next step")
EDIT = Action("e", "edit")
PROMPT = Action("p", "valkey prompt")
SKIP = Action("k", "skip")
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
        self,
        module: Module,
        workdir: Workdir,
        server: ServerInfo,
        start_at: Step | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.module = module
        self.workdir = workdir
        #: The server as it runs now (the guard may restart it: see ``LiveServer``).
        self.live = LiveServer(server)
        workdir.prepare(module)  # the exercise files exist before the first step is shown
        status = module_status(module, workdir)
        self.warning = status.warning
        first = start_at or status.next_step or module.steps[0]
        self.index = module.steps.index(first)
        self.resumed = start_at is None and self.index > 0
        self.last_result: StepResult | None = None
        self.last_outcome: CheckOutcome | None = None
        #: Why the last check's result could not be saved (read-only workdir), or None.
        self.progress_error: str | None = None
        self.publish_note: str | None = None
        #: The hint the last failed check named, until it is shown (``h`` shows it first).
        self.named_hint: int | None = None
        self._clock = clock
        self._since = clock()

    @property
    def server(self) -> ServerInfo:
        return self.live.info

    @property
    def step(self) -> Step:
        return self.module.steps[self.index]

    @property
    def exercise(self) -> Path:
        return self.workdir.exercise_path(self.step)

    @property
    def passed(self) -> bool:
        progress = self.workdir.progress.load().progress
        return progress.peek(self.module.id, self.step.slug).ever_passed

    def actions(self, with_demo: bool = True) -> list[Action]:
        """The keys that do something on this step, in the key bar's order."""
        actions = [CHECK, HINT, EDIT, *([LESSON, DEMO] if with_demo else []), PROMPT]
        if self.passed:
            actions.append(SOLUTION)
        if self._another_unfinished():
            actions.append(NEXT)
        if not self.passed:
            actions.append(SKIP)
        actions.append(QUIT)
        return actions

    def lesson(self) -> str:
        """The step's lesson with this server's live values filled in."""
        return live_lesson_text(self.step, self.server.url)

    def check(self) -> StepResult:
        """Check the current step (under the server guard: see ``last_outcome.notices``)."""
        outcome = check_steps(
            self.module, (self.step,), self.workdir, self.server, restart_stopped=True
        )
        self.last_outcome = outcome
        self.progress_error = outcome.progress_error
        self.last_result = outcome.report.steps[0]
        self.named_hint = next(
            (c.hint for c in self.last_result.failures if c.ran and c.hint is not None), None
        )
        # One line when class publishing is paused; the check itself is unaffected.
        self.publish_note = outcome.published.line if outcome.published else None
        return self.last_result

    def hint(self) -> HintReveal:
        """The hint the last failed check named (once), else the next one in order."""
        number, self.named_hint = self.named_hint, None
        return reveal_hint(self.module, self.step, self.workdir, number)

    def solution(self) -> SolutionView:
        return solution_for(self.module, self.step, self.workdir, force=False)

    def record_time(self) -> None:
        """Add the time since the step came on screen (or since the last call) to it."""
        now = self._clock()
        add_time_spent(self.module, self.step, self.workdir, now - self._since)
        self._since = now

    def _another_unfinished(self) -> bool:
        status = module_status(self.module, self.workdir)
        return any(
            entry.progress.status not in ("passed", "skipped")
            for index, entry in enumerate(status.steps)
            if index != self.index
        )

    def advance_to_unfinished(self) -> bool:
        """Move to the next step after this one that is neither passed nor skipped (the first
        such step of the module when none follows); False when every step is done."""
        status = module_status(self.module, self.workdir)
        order = list(range(self.index + 1, len(self.module.steps))) + list(range(self.index))
        for index in order:
            if status.steps[index].progress.status not in ("passed", "skipped"):
                self.record_time()
                self.index = index
                self.last_result = None
                self.named_hint = None
                return True
        return False

    def passed_line(self, with_demo: bool = True) -> str:
        """What to do after a pass, naming only keys the key bar shows."""
        return passed_line(self.actions(with_demo))

    def skip(self) -> None:
        """Mark this step skipped (not passed)."""
        skip_step(self.module, self.step, self.workdir)

    def summary(self) -> ModuleSummary:
        return module_summary(self.module, self.workdir)


def passed_line(actions: list[Action]) -> str:
    """``Step passed.`` and what to do next, naming only keys among ``actions``."""
    keys = {action.key for action in actions}
    then = []
    if NEXT.key in keys:
        then.append(f"{NEXT.key} for the next step")
    if SOLUTION.key in keys:
        then.append(f"{SOLUTION.key} to compare with the solution")
    if not then:
        return "Step passed."
    done = "" if NEXT.key in keys else " Every other step is passed or skipped."
    return f"Step passed.{done} Press {', or '.join(then)}."
