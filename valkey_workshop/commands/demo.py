"""Running a step's live demo under the server guard: one runner for the learner session,
the presenter and ``verify`` (each shows the :class:`DemoRun` its own way)."""

from __future__ import annotations

from typing import Protocol

from valkey_workshop.checking.guarded import guarded_demo
from valkey_workshop.content.models import Step
from valkey_workshop.demo import DemoOutcome, DemoSink, SimulatedNetwork, run_demo
from valkey_workshop.results.demo import DemoRun
from valkey_workshop.server.base import ServerInfo

__all__ = ["DemoRun", "NetworkRoute", "run_step_demo"]


class NetworkRoute(SimulatedNetwork, Protocol):
    """A simulated network the demo's client goes through (a ``LatencyProxy``)."""

    def url_for(self, server_url: str) -> str: ...


def run_step_demo(
    step: Step,
    server: ServerInfo,
    sink: DemoSink,
    *,
    db_latency: float,
    quick: bool = False,
    network: NetworkRoute | None = None,
) -> DemoRun:
    """Run ``step``'s demo on ``server`` under its guard, its events to ``sink``.

    A demo is refused like the step's checks on a server holding others' data, and the
    settings it changes are put back afterwards, even when it raises. Whatever the demo
    raises comes back as ``failure``: a demo that cannot run never ends a session. With
    ``network``, the demo's timed client goes through it (its setup client does not).
    """

    def demo(url: str) -> DemoOutcome:
        through = network.url_for(url) if network is not None else url
        return run_demo(
            step, through, sink, db_latency, quick=quick, direct_url=url, network=network
        )

    try:
        run = guarded_demo(step, server, demo)
    except Exception as error:  # noqa: BLE001 - reported as the run's failure (docstring)
        return DemoRun(step, failure=error)
    aftermath = run.aftermath
    return DemoRun(
        step,
        outcome=run.value,
        refusal=run.refusal.message if run.refusal is not None else None,
        stopped=aftermath.why_stopped if aftermath.stopped else None,
        notices=aftermath.messages(),
    )
