"""The trainer's board as data: who is where, what fails most, who is stuck.

Events are read from the class stream in order (``XRANGE`` from the last id seen) and folded
into per-learner state; each event id counts once, so re-sent outbox entries change nothing.
Times come from the stream ids (the class server's clock), not from learners' laptops.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import valkey

from valkey_workshop.classroom.config import ClassConfig, events_key
from valkey_workshop.content.models import Module

#: A learner failing one step for longer than this is "stuck" (``--stuck-minutes``).
DEFAULT_STUCK_MINUTES = 10.0
_READ_BATCH = 5_000
StepStatus = str  # "passed" | "failed" | "skipped" | "not-started"


@dataclass
class _StepState:
    status: StepStatus = "not-started"
    attempts: int = 0
    seconds: int = 0
    hints: int = 0
    failing: tuple[str, ...] = ()
    since_ms: int = 0


@dataclass
class _LearnerState:
    name: str
    learner_id: str
    steps: dict[int, _StepState] = field(default_factory=dict)
    current: int | None = None
    last_ms: int = 0
    backend: str = ""
    server_version: str = ""


@dataclass(frozen=True)
class LearnerStep:
    """One cell of the board."""

    status: StepStatus
    attempts: int
    seconds: int
    hints: int


@dataclass(frozen=True)
class LearnerRow:
    name: str
    learner_id: str
    steps: dict[int, LearnerStep]
    current_step: int | None
    stuck_minutes: float | None
    backend: str
    server_version: str


@dataclass(frozen=True)
class StepColumn:
    number: int
    slug: str
    passed: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class FailingCheck:
    step: int
    slug: str
    check: str
    name: str
    learners: int


@dataclass(frozen=True)
class BoardSnapshot:
    """One moment of the class, as ``class board --json`` prints it."""

    class_id: str
    module: str
    generated_at: float
    elapsed_seconds: float
    planned_minutes: int
    events: int
    learners: tuple[LearnerRow, ...]
    steps: tuple[StepColumn, ...]
    failing: tuple[FailingCheck, ...]
    stuck: tuple[LearnerRow, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "class": self.class_id,
            "module": self.module,
            "generated_at": round(self.generated_at, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 1),
            "planned_minutes": self.planned_minutes,
            "events": self.events,
            "learners": [
                {
                    "name": row.name,
                    "id": row.learner_id,
                    "current_step": row.current_step,
                    "stuck_minutes": row.stuck_minutes,
                    "backend": row.backend,
                    "server_version": row.server_version,
                    "steps": {
                        f"{number:02d}": {
                            "status": cell.status,
                            "attempts": cell.attempts,
                            "seconds": cell.seconds,
                            "hints": cell.hints,
                        }
                        for number, cell in sorted(row.steps.items())
                    },
                }
                for row in self.learners
            ],
            "steps": [
                {
                    "step": column.number,
                    "slug": column.slug,
                    "passed": column.passed,
                    "failed": column.failed,
                    "skipped": column.skipped,
                }
                for column in self.steps
            ],
            "failing_checks": [
                {
                    "step": item.step,
                    "slug": item.slug,
                    "check": item.check,
                    "name": item.name,
                    "learners": item.learners,
                }
                for item in self.failing
            ],
            "stuck": [
                {"name": row.name, "step": row.current_step, "minutes": row.stuck_minutes}
                for row in self.stuck
            ],
        }

    def to_csv(self) -> str:
        """One row per learner and step that has a result."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["learner", "step", "slug", "status", "attempts", "seconds", "hints"])
        slugs = {column.number: column.slug for column in self.steps}
        for row in self.learners:
            for number, cell in sorted(row.steps.items()):
                writer.writerow(
                    [
                        row.name,
                        f"{number:02d}",
                        slugs.get(number, ""),
                        cell.status,
                        cell.attempts,
                        cell.seconds,
                        cell.hints,
                    ]
                )
        return out.getvalue()

    def step_line(self, number: int) -> str | None:
        """``step 02: 18/25 passed`` for the presenter, or None before anyone joined."""
        if not self.learners:
            return None
        column = next((c for c in self.steps if c.number == number), None)
        passed = column.passed if column else 0
        return f"step {number:02d}: {passed}/{len(self.learners)} passed"


class ClassBoard:
    """Folds the class stream into board state; :meth:`refresh` reads only new events."""

    def __init__(
        self,
        config: ClassConfig,
        module: Module,
        check_names: dict[tuple[int, str], str] | None = None,
        stuck_minutes: float = DEFAULT_STUCK_MINUTES,
    ) -> None:
        self.config = config
        self.module = module
        self.check_names = check_names or {}
        self.stuck_minutes = stuck_minutes
        self._learners: dict[str, _LearnerState] = {}
        self._seen: set[str] = set()
        self._last_id = "-"

    def refresh(self, client: valkey.Valkey) -> int:
        """Read the events added since the last refresh; returns how many were new."""
        key = events_key(self.config.class_id)
        new = 0
        while True:
            start = self._last_id if self._last_id == "-" else f"({self._last_id}"
            batch = client.xrange(key, min=start, max="+", count=_READ_BATCH)
            if not batch:
                return new
            new += self.fold(batch)
            if len(batch) < _READ_BATCH:
                return new

    def fold(self, entries: Iterable[tuple[object, Mapping[Any, object]]]) -> int:
        """Apply stream entries ``(id, fields)``; an event id seen before is skipped."""
        applied = 0
        for raw_id, raw_fields in entries:
            stream_id = _text(raw_id)
            self._last_id = stream_id
            fields = {_text(k): _text(v) for k, v in raw_fields.items()}
            event_id = fields.get("id", stream_id)
            if event_id in self._seen:
                continue
            self._seen.add(event_id)
            applied += 1
            self._apply(fields, int(stream_id.split("-", 1)[0]))
        return applied

    def _apply(self, fields: dict[str, str], at_ms: int) -> None:
        learner_id = fields.get("learner_id", "?")
        learner = self._learners.get(learner_id)
        if learner is None:
            learner = _LearnerState(fields.get("learner", "?"), learner_id)
            self._learners[learner_id] = learner
        learner.name = fields.get("learner", learner.name)
        learner.last_ms = max(learner.last_ms, at_ms)
        learner.backend = fields.get("backend", learner.backend)
        learner.server_version = fields.get("server_version", learner.server_version)
        kind = fields.get("kind")
        if kind not in ("check", "skip") or fields.get("module") != self.module.id:
            return
        try:
            number = int(fields.get("step", ""))
        except ValueError:
            return
        cell = learner.steps.setdefault(number, _StepState(since_ms=at_ms))
        if learner.current != number:
            cell.since_ms = at_ms if cell.status != "failed" else cell.since_ms
        learner.current = number
        if kind == "skip":
            if cell.status != "passed":
                cell.status = "skipped"
            return
        passed = fields.get("passed") == "1"
        cell.status = "passed" if passed else "failed"
        cell.attempts = max(cell.attempts, _int(fields.get("attempt")))
        cell.seconds = max(cell.seconds, _int(fields.get("seconds")))
        cell.hints = max(cell.hints, _int(fields.get("hints")))
        try:
            checks = json.loads(fields.get("checks", "[]"))
            cell.failing = tuple(str(check) for check, ok in checks if not ok)
        except (ValueError, TypeError):
            cell.failing = ()

    def snapshot(self, now: float | None = None) -> BoardSnapshot:
        """The board as it stands (``now`` in seconds since the epoch)."""
        moment = time.time() if now is None else now
        rows = tuple(self._row(learner, moment) for learner in self._learners.values())
        slugs = {step.number: step.slug for step in self.module.steps}
        columns = tuple(
            StepColumn(
                number=step.number,
                slug=step.slug,
                passed=sum(1 for r in rows if _status(r, step.number) == "passed"),
                failed=sum(1 for r in rows if _status(r, step.number) == "failed"),
                skipped=sum(1 for r in rows if _status(r, step.number) == "skipped"),
            )
            for step in self.module.steps
        )
        failing: Counter[tuple[int, str]] = Counter()
        for learner in self._learners.values():
            for number, cell in learner.steps.items():
                if cell.status == "failed":
                    failing.update((number, check) for check in set(cell.failing))
        top = tuple(
            FailingCheck(
                step=number,
                slug=slugs.get(number, "?"),
                check=check,
                name=self.check_names.get((number, check), check),
                learners=count,
            )
            for (number, check), count in sorted(failing.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        stuck = tuple(
            sorted(
                (row for row in rows if row.stuck_minutes is not None),
                key=lambda row: -(row.stuck_minutes or 0.0),
            )
        )
        return BoardSnapshot(
            class_id=self.config.class_id,
            module=self.module.id,
            generated_at=moment,
            elapsed_seconds=max(0.0, moment - self.config.started_at),
            planned_minutes=self.module.planned_minutes,
            events=len(self._seen),
            learners=tuple(sorted(rows, key=lambda row: row.name.lower())),
            steps=columns,
            failing=top,
            stuck=stuck,
        )

    def _row(self, learner: _LearnerState, moment: float) -> LearnerRow:
        stuck = None
        current = learner.steps.get(learner.current) if learner.current is not None else None
        if current is not None and current.status == "failed":
            minutes = (moment * 1000 - current.since_ms) / 60_000
            if minutes >= self.stuck_minutes:
                stuck = round(minutes, 1)
        return LearnerRow(
            name=learner.name,
            learner_id=learner.learner_id,
            steps={
                number: LearnerStep(cell.status, cell.attempts, cell.seconds, cell.hints)
                for number, cell in learner.steps.items()
            },
            current_step=learner.current,
            stuck_minutes=stuck,
            backend=learner.backend,
            server_version=learner.server_version,
        )


def _status(row: LearnerRow, number: int) -> StepStatus:
    cell = row.steps.get(number)
    return cell.status if cell else "not-started"


def _text(value: object) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def check_names(module: Module) -> dict[tuple[int, str], str]:
    """Each step's check ids and the names learners see, from the course content."""
    from valkey_workshop.checking.api import checks_in  # noqa: PLC0415 - imports valkey-py
    from valkey_workshop.pyfile import load_file_as_module  # noqa: PLC0415

    names: dict[tuple[int, str], str] = {}
    for step in module.steps:
        try:
            checks = load_file_as_module(step.checks, f"board_checks_{step.number}")
        except Exception:  # noqa: BLE001, S112 - a broken checks file: ids stand in for names
            continue
        for spec, _ in checks_in(checks):
            names[(step.number, spec.id)] = spec.name
    return names


def sorted_for_board(rows: Sequence[LearnerRow]) -> list[LearnerRow]:
    """Stuck learners first (longest first), then everyone else by name."""
    return sorted(rows, key=lambda row: (row.stuck_minutes is None, -(row.stuck_minutes or 0)))
