"""Presenter mode's state: which step is on screen, and the section timer.

The trainer moves forward and back through the selected steps; time is counted per section
of the module's timing plan (the course's 8, 10, 12 and 10 minutes) while its steps are shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from valkey_workshop.content.models import Module, Section, Step


@dataclass(frozen=True)
class SectionTime:
    """Elapsed against planned time for one section."""

    section: Section
    elapsed_seconds: float

    @property
    def planned_seconds(self) -> float:
        return self.section.minutes * 60.0

    @property
    def over_seconds(self) -> float:
        """How far past its plan the section runs; a self-paced section has no plan to pass."""
        if self.section.self_paced:
            return 0.0
        return max(0.0, self.elapsed_seconds - self.planned_seconds)

    @property
    def over(self) -> bool:
        return self.over_seconds > 0


class SectionTimer:
    """Counts time per section; only the section on screen accumulates."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._spent: dict[str, float] = {}
        self._current: str | None = None
        self._since = 0.0

    def enter(self, section_id: str) -> None:
        now = self._clock()
        if self._current is not None:
            self._spent[self._current] = self._spent.get(self._current, 0.0) + now - self._since
        self._current, self._since = section_id, now

    def elapsed(self, section_id: str) -> float:
        spent = self._spent.get(section_id, 0.0)
        if section_id == self._current:
            spent += self._clock() - self._since
        return spent


class Presenter:
    """The trainer's position in a module's steps."""

    def __init__(
        self, module: Module, steps: tuple[Step, ...], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.module = module
        self.steps = steps
        self.index = 0
        self.timer = SectionTimer(clock)
        self.timer.enter(self.step.section)

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    @property
    def at_end(self) -> bool:
        return self.index + 1 >= len(self.steps)

    def section_time(self) -> SectionTime:
        section = self.module.section(self.step.section)
        return SectionTime(section, self.timer.elapsed(section.id))

    def next_starts_section(self) -> Section | None:
        """The section the next step opens, when it differs from the current one."""
        if self.at_end:
            return None
        following = self.steps[self.index + 1]
        if following.section == self.step.section:
            return None
        return self.module.section(following.section)

    def forward(self) -> bool:
        if self.at_end:
            return False
        self.index += 1
        self.timer.enter(self.step.section)
        return True

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        self.timer.enter(self.step.section)
        return True
