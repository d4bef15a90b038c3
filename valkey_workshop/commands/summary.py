"""A module's summary: totals and the extreme calls (``list`` and the end of a session)."""

from __future__ import annotations

from valkey_workshop.commands.listing import module_status
from valkey_workshop.content.models import Module, Step
from valkey_workshop.results.status import ModuleSummary
from valkey_workshop.session.progress import CallExtreme
from valkey_workshop.session.workdir import Workdir

__all__ = ["ModuleSummary", "module_summary"]


def module_summary(module: Module, workdir: Workdir) -> ModuleSummary:
    """The steps' status with the time and attempts summed, and the slowest and fastest call."""
    status = module_status(module, workdir)
    slowest: tuple[Step, CallExtreme] | None = None
    fastest: tuple[Step, CallExtreme] | None = None
    for entry in status.steps:
        high, low = entry.progress.slowest_call, entry.progress.fastest_call
        if high and (slowest is None or high.latency_us > slowest[1].latency_us):
            slowest = (entry.step, high)
        if low and (fastest is None or low.latency_us < fastest[1].latency_us):
            fastest = (entry.step, low)
    return ModuleSummary(
        status=status,
        total_seconds=sum(entry.progress.seconds_spent for entry in status.steps),
        total_attempts=sum(entry.progress.attempts for entry in status.steps),
        slowest=slowest,
        fastest=fastest,
    )
