"""Running a step's live demo: narration and timed Valkey calls, emitted as events.

A demo file defines ``run(demo: DemoContext)``. It talks through :class:`DemoContext`; every
event goes to a sink the caller supplies (the terminal renderer in a session, a collector in
tests and ``verify``), so the demo itself never prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import valkey

from valkey_workshop.content.models import Step
from valkey_workshop.errors import ContentError
from valkey_workshop.labdb import ProductDatabase
from valkey_workshop.pyfile import load_file_as_module
from valkey_workshop.timing.client import TimedValkey, connect
from valkey_workshop.timing.records import CallLog, CallRecord


@dataclass(frozen=True)
class Narration:
    text: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class CallsMade:
    """Round trips made since the previous event."""

    records: tuple[CallRecord, ...]


@dataclass(frozen=True)
class ValueShown:
    label: str
    value: object


@dataclass(frozen=True)
class ServerReplied:
    """The server's own words (an error reply, say), shown as a quote, never as lesson text."""

    label: str
    text: str


@dataclass(frozen=True)
class Elapsed:
    """Wall time of a block of work as the application saw it (database time included)."""

    label: str
    seconds: float


@dataclass(frozen=True)
class TableShown:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class BarsShown:
    """Horizontal bars comparing a few measured values (higher is longer)."""

    title: str
    unit: str
    bars: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Picture:
    """A small character map, e.g. which keys survived eviction (one character per cell)."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class PicturesShown:
    """Pictures to compare side by side, with a legend for their characters."""

    title: str
    pictures: tuple[Picture, ...]
    legend: str


DemoEvent = (
    Narration
    | Heading
    | CallsMade
    | ValueShown
    | ServerReplied
    | Elapsed
    | TableShown
    | PicturesShown
    | BarsShown
)
DemoSink = Callable[[DemoEvent], None]


class SimulatedNetwork(Protocol):
    """What a demo needs to know of a simulated network (a LatencyProxy)."""

    rtt_seconds: float
    enabled: bool


@dataclass(frozen=True)
class DemoOutcome:
    """What a demo run did, for ``verify``, charts and tests."""

    step: str
    events: int
    round_trips: int
    seconds: float
    records: tuple[CallRecord, ...] = ()


class DemoContext:
    """What a demo gets.

    Attributes:
        client: a timed client (``decode_responses=True``); its calls are shown as they happen.
        db: the slow product database (``db.latency_seconds`` tells how slow).
        quick: True when the demo runs headless for ``verify``: keep bulk work small.
        setup: an untimed client for preparation that is not part of the lesson (building a
            big key, tidying up); its calls are not shown.
    """

    def __init__(
        self,
        url: str,
        sink: DemoSink,
        db_latency: float = 1.5,
        quick: bool = False,
        direct_url: str | None = None,
        network: SimulatedNetwork | None = None,
    ) -> None:
        self.url = url
        self.direct_url = direct_url or url
        self.network = network
        self.quick = quick
        self.client: TimedValkey = connect(url, CallLog())
        self.db = ProductDatabase(latency_seconds=db_latency)
        self._sink = sink
        self._shown = 0
        self._events = 0
        self.setup = valkey.Valkey.from_url(self.direct_url, decode_responses=True)
        self._extra: list[TimedValkey] = []

    def _emit(self, event: DemoEvent) -> None:
        self._flush_calls()
        self._events += 1
        self._sink(event)

    def _flush_calls(self) -> None:
        log = self.client.call_log
        if len(log) > self._shown:
            records = tuple(log.records(self._shown))
            self._shown = len(log)
            self._events += 1
            self._sink(CallsMade(records))

    @property
    def simulated_rtt(self) -> float | None:
        """The simulated round trip in seconds, or None when talking to the server directly."""
        if self.network is None or not self.network.enabled:
            return None
        return self.network.rtt_seconds

    def loopback_client(self) -> TimedValkey:
        """A timed client straight to the server, bypassing any simulated network; its calls
        are not shown (use it to compare against the simulated network)."""
        client = connect(self.direct_url, CallLog())
        self._extra.append(client)
        return client

    def say(self, text: str) -> None:
        """Narration (Markdown)."""
        self._emit(Narration(text))

    def heading(self, text: str) -> None:
        self._emit(Heading(text))

    def show(self, label: str, value: object) -> None:
        self._emit(ValueShown(label, value))

    def server_reply(self, label: str, reply: object) -> None:
        """What the server answered (an exception from valkey-py, or text), quoted as the
        server's words so it does not read as the course's."""
        text = f"{type(reply).__name__}: {reply}" if isinstance(reply, Exception) else str(reply)
        self._emit(ServerReplied(label, text))

    def bars(self, title: str, unit: str, bars: Sequence[tuple[str, float]]) -> None:
        """A bar chart of measured values, e.g. throughput per method."""
        self._emit(BarsShown(title, unit, tuple((label, float(v)) for label, v in bars)))

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self._emit(
            TableShown(title, tuple(columns), tuple(tuple(str(v) for v in row) for row in rows))
        )

    def pictures(self, title: str, pictures: Sequence[Picture], legend: str) -> None:
        """Character maps to compare side by side (terminal charts that need no colour)."""
        self._emit(PicturesShown(title, tuple(pictures), legend))

    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        """Time a block as the application sees it; its calls are shown, then the time."""
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self._emit(Elapsed(label, seconds))

    def tidy(self, *keys: str) -> None:
        """Remove keys the demo made, without showing the calls (housekeeping, not teaching)."""
        if keys:
            self.setup.delete(*keys)

    def close(self) -> None:
        self._flush_calls()
        for client in [self.client, *self._extra]:
            client.close()
        self.setup.close()


def run_demo(
    step: Step,
    url: str,
    sink: DemoSink,
    db_latency: float = 1.5,
    quick: bool = False,
    direct_url: str | None = None,
    network: SimulatedNetwork | None = None,
) -> DemoOutcome:
    """Run ``step``'s demo against the server at ``url``, sending its events to ``sink``.

    With a simulated network, ``url`` goes through it and ``direct_url`` does not.
    """
    module = load_file_as_module(step.demo, f"workshop_demo_{step.module_id}_{step.number:02d}")
    run = getattr(module, "run", None)
    if not callable(run):
        raise ContentError(f"{step.demo}: defines no run(demo) function.")
    context = DemoContext(
        url, sink, db_latency=db_latency, quick=quick, direct_url=direct_url, network=network
    )
    started = time.perf_counter()
    try:
        run(context)
    finally:
        context.close()
    return DemoOutcome(
        step=step.label,
        events=context._events,
        round_trips=len(context.client.call_log),
        seconds=time.perf_counter() - started,
        records=tuple(context.client.call_log.records()),
    )
