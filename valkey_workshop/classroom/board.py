"""The trainer's board as data: who is where and for how long, what fails most, who is stuck,
who raised a hand.

Events are read from the class stream in order (``XRANGE`` from the last id seen) and folded
into per-learner state; each event id counts once per learner, so re-sent outbox entries change
nothing. Times come from the stream ids (the class server's clock, never later than now), not
from learners' laptops. Nothing read is trusted: each event passes :func:`.events.clean_event`
or is counted in ``rejected`` and skipped.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import valkey

from valkey_workshop.classroom.config import (
    ClassConfig,
    events_key,
    rejected_key,
    state_key,
    unstored_key,
)
from valkey_workshop.classroom.events import (
    LEARNER_KINDS,
    MAX_NAME_CHARS,
    SERVER_KINDS,
    clean_event,
    clean_text,
    learner_id_ok,
    parse_checks,
)
from valkey_workshop.content.models import Module

#: A learner failing one step for longer than this is "stuck" (``--stuck-minutes``).
DEFAULT_STUCK_MINUTES = 10.0
#: A learner with no check for this long is "idle" (``--idle-minutes``).
DEFAULT_IDLE_MINUTES = 5.0
_READ_BATCH = 10_000
_MAX_FIELD_CHARS = 8_192
_MAX_STATE_BYTES = 64 * 1024 * 1024
StepStatus = str  # "passed" | "failed" | "skipped" | "not-started"
_KINDS = LEARNER_KINDS | SERVER_KINDS
#: Words a trainer can say aloud to tell two learners of one name apart ("Ada, the otter").
ALOUD = (
    "otter", "heron", "lynx", "panda", "koala", "bison", "crane", "gecko", "llama", "moose",
    "raven", "tapir", "zebra", "yak", "walrus", "viper", "toucan", "robin", "quail", "puffin",
    "orca", "newt", "mole", "lemur", "ibis", "hare", "gull", "finch", "eel", "dingo", "camel",
    "badger", "alpaca", "beaver", "cobra", "dove", "egret", "ferret", "goose", "hawk", "impala",
    "jackal", "kiwi", "lark", "mink", "owl", "pika", "seal",
)  # fmt: skip


@dataclass
class _StepState:
    status: StepStatus = "not-started"
    attempts: int = 0
    seconds: int = 0
    hints: int = 0
    failing: tuple[str, ...] = ()
    since_ms: int = 0
    last_ms: int = 0


@dataclass
class _LearnerState:
    name: str
    learner_id: str
    steps: dict[int, _StepState] = field(default_factory=dict)
    current: int | None = None
    current_since_ms: int = 0
    joined_ms: int = 0
    last_ms: int = 0
    last_check_ms: int = 0
    backend: str = ""
    server_version: str = ""
    left: bool = False
    hand_ms: int | None = None
    #: The trainer removed this learner (``class remove``): off the board, its user gone.
    removed: bool = False


@dataclass(frozen=True)
class LearnerStep:
    """One cell of the board."""

    status: StepStatus
    attempts: int
    seconds: int
    hints: int
    failing: tuple[str, ...] = ()


@dataclass(frozen=True)
class LearnerRow:
    name: str
    learner_id: str
    steps: dict[int, LearnerStep]
    current_step: int | None
    stuck_minutes: float | None
    backend: str
    server_version: str
    #: The learner ran ``workshop leave``: kept on the board, never counted as stuck.
    left: bool = False
    #: The name as the board shows it: with a word to say aloud when two share a name.
    shown_name: str = ""
    #: Minutes on the current step (since the learner's previous step ended).
    on_step_minutes: float | None = None
    #: Seconds since the class server last heard from this learner.
    last_seen_seconds: float = 0.0
    #: No check for ``idle_minutes`` (and not left).
    idle: bool = False
    #: Joined, never checked or skipped a step.
    never_started: bool = False
    #: Minutes since the learner raised a hand (``workshop help-me``), or None.
    hand_minutes: float | None = None


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
    #: Learners with a raised hand, longest waiting first.
    hands: tuple[LearnerRow, ...] = ()
    #: Events refused (by the class server's relay) or skipped (by the board) as malformed,
    #: and join requests the class server refused (full, an id taken, junk, a flood).
    rejected: int = 0
    #: Of those, the refused join requests.
    rejected_joins: int = 0
    #: The class's seats (``class serve --max-learners``): the class is full at this many.
    max_learners: int = 0
    #: Learner events the class server could not store (they wait in inboxes).
    unstored: int = 0
    #: The class server is at (95 % of) its memory cap: it refuses new results.
    memory_full: bool = False

    @property
    def full(self) -> bool:
        return 0 < self.max_learners <= len(self.learners)

    def to_json(self) -> dict[str, object]:
        return {
            "class": self.class_id,
            "module": self.module,
            "generated_at": round(self.generated_at, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 1),
            "planned_minutes": self.planned_minutes,
            "events": self.events,
            "rejected": self.rejected,
            "rejected_joins": self.rejected_joins,
            "max_learners": self.max_learners,
            "full": self.full,
            "unstored": self.unstored,
            "memory_full": self.memory_full,
            "learners": [row_json(row) for row in self.learners],
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
                {"name": row.shown_name, "step": row.current_step, "minutes": row.stuck_minutes}
                for row in self.stuck
            ],
            "hands": [
                {"name": row.shown_name, "step": row.current_step, "minutes": row.hand_minutes}
                for row in self.hands
            ],
        }

    def to_csv(self) -> str:
        """One row per learner and step with a result; a learner with none gets one row
        (status ``joined``), so the export doubles as the attendance list. No cell starts a
        formula."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["learner", "learner_id", "step", "slug", "status", "attempts", "seconds", "hints"]
        )
        slugs = {column.number: column.slug for column in self.steps}
        for row in self.learners:
            name = _csv_text(row.shown_name or row.name)
            learner_id = _csv_text(row.learner_id)
            if not row.steps:
                writer.writerow([name, learner_id, "", "", "joined", 0, 0, 0])
            for number, cell in sorted(row.steps.items()):
                writer.writerow(
                    [
                        name,
                        learner_id,
                        f"{number:02d}",
                        _csv_text(slugs.get(number, "")),
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

    def find(self, name: str) -> list[LearnerRow]:
        """The learners called ``name`` (their name, shown name or id; any case)."""
        wanted = " ".join(name.split()).casefold()
        exact = [
            row for row in self.learners if wanted in (row.shown_name.casefold(), row.learner_id)
        ]
        return exact or [row for row in self.learners if row.name.casefold() == wanted]


def row_json(row: LearnerRow) -> dict[str, object]:
    """One learner as ``class board --json`` prints it."""
    return {
        "name": row.name,
        "shown_name": row.shown_name,
        "id": row.learner_id,
        "left": row.left,
        "current_step": row.current_step,
        "on_step_minutes": row.on_step_minutes,
        "stuck_minutes": row.stuck_minutes,
        "last_seen_seconds": round(row.last_seen_seconds, 1),
        "idle": row.idle,
        "never_started": row.never_started,
        "hand_minutes": row.hand_minutes,
        "backend": row.backend,
        "server_version": row.server_version,
        "steps": {
            f"{number:02d}": {
                "status": cell.status,
                "attempts": cell.attempts,
                "seconds": cell.seconds,
                "hints": cell.hints,
                "failing": list(cell.failing),
            }
            for number, cell in sorted(row.steps.items())
        },
    }


class ClassBoard:
    """Folds the class stream into board state; :meth:`refresh` reads only new events."""

    def __init__(
        self,
        config: ClassConfig,
        module: Module,
        check_names: dict[tuple[int, str], str] | None = None,
        stuck_minutes: float = DEFAULT_STUCK_MINUTES,
        idle_minutes: float = DEFAULT_IDLE_MINUTES,
    ) -> None:
        self.config = config
        self.module = module
        self.check_names = check_names or {}
        self.stuck_minutes = stuck_minutes
        self.idle_minutes = idle_minutes
        self._steps = frozenset(step.number for step in module.steps)
        self._order = [step.number for step in module.steps]
        self._learners: dict[str, _LearnerState] = {}
        self._seen: set[tuple[str, str]] = set()
        self._last_id = "-"
        self._events = 0
        #: Events this board skipped as malformed.
        self.skipped = 0
        #: Events the class server's relay refused (read from the server).
        self.refused = 0
        #: Join requests the class server's relay refused (read from the server).
        self.refused_joins = 0
        #: Learner events the class server could not store (read from the server).
        self.unstored = 0
        #: When the class ended (``class end``): its board then stands at that moment.
        self.ended_at: float | None = None
        #: The class server's memory use against its cap, when it says (``INFO memory``).
        self.memory: tuple[int, int] | None = None

    def refresh(self, client: valkey.Valkey, use_state: bool = True) -> int:
        """Read the events added since the last refresh; returns how many were new. The first
        refresh starts from the state the class server keeps (when there is a good one)."""
        key = events_key(self.config.class_id)
        new = 0
        if use_state and self._last_id == "-":
            with contextlib.suppress(valkey.ResponseError):
                raw = client.get(state_key(self.config.class_id))
                if raw is not None and len(raw) < _MAX_STATE_BYTES:
                    self.load_state(_text(raw))
        try:
            counts = client.hgetall(rejected_key(self.config.class_id))
            self.refused = sum(_int(_text(count)) for count in counts.values())
            self.refused_joins = _int(_text(counts.get(b"joins", counts.get("joins", 0))))
            self.unstored = _int(_text(client.get(unstored_key(self.config.class_id)) or 0))
        except valkey.ResponseError:
            pass  # not a hash (someone else's key): the board does without the count
        try:
            memory = client.info("memory")
            self.memory = (int(memory["used_memory"]), int(memory["maxmemory"]))
        except (valkey.ResponseError, KeyError, TypeError, ValueError):
            self.memory = None  # INFO refused or odd: no memory line on the board
        while True:
            start = self._last_id if self._last_id == "-" else f"({self._last_id}"
            batch = client.xrange(key, min=start, max="+", count=_READ_BATCH)
            if not batch:
                return new
            new += self.fold(batch)
            if len(batch) < _READ_BATCH:
                return new

    def fold(self, entries: Iterable[tuple[object, Mapping[Any, object]]]) -> int:
        """Apply stream entries ``(id, fields)``; an event id seen before is skipped, and so
        is (counted in ``skipped``) anything malformed."""
        applied = 0
        now_ms = int(time.time() * 1000)
        kinds, module_id, steps = _KINDS, self.module.id, self._steps
        for raw_id, raw_fields in entries:
            stream_id = _text(raw_id)
            self._last_id = stream_id
            at_text, _, _ = stream_id.partition("-")
            if not at_text.isdigit() or not isinstance(raw_fields, Mapping):
                self.skipped += 1
                continue
            fields = {
                (k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)): (
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                )
                for k, v in raw_fields.items()
            }
            learner_id = fields.get("learner_id", "")
            event = (
                clean_event(fields, module_id, steps, kinds)
                if learner_id_ok(learner_id)
                and all(len(value) <= _MAX_FIELD_CHARS for value in fields.values())
                else None
            )
            if event is None:
                self.skipped += 1
                continue
            seen = (learner_id, event["id"])
            if seen in self._seen:
                continue
            self._seen.add(seen)
            self._events += 1
            applied += 1
            # The server's clock, never later than now: an id from the future changes nothing.
            self._apply(learner_id, fields.get("learner"), event, min(int(at_text), now_ms))
        return applied

    def _apply(self, learner_id: str, name: object, event: dict[str, str], at_ms: int) -> None:
        kind = event["kind"]
        if kind in ("clear", "remove"):
            self._lower(event["target"], remove=kind == "remove")
            return
        learner = self._learners.get(learner_id)
        shown = clean_text(name, MAX_NAME_CHARS) or "?"
        if learner is None:
            learner = _LearnerState(shown, learner_id, joined_ms=at_ms)
            self._learners[learner_id] = learner
        previous_ms = learner.last_ms or at_ms
        learner.last_ms = max(learner.last_ms, at_ms)
        if kind == "join":
            learner.name = shown
            learner.left = False
            return
        if kind == "leave":
            learner.left = True
            learner.hand_ms = None
            return
        learner.left = False
        if kind == "help":
            learner.hand_ms = learner.hand_ms or at_ms
            return
        number = int(event["step"])
        cell = learner.steps.get(number)
        if cell is None:
            cell = learner.steps[number] = _StepState(since_ms=previous_ms)
        cell.last_ms = at_ms
        if learner.current != number:
            learner.current = number
            learner.current_since_ms = cell.since_ms if cell.status != "passed" else at_ms
        if kind == "skip":
            if cell.status != "passed":
                cell.status = "skipped"
            self._move_on(learner, number, at_ms)
            return
        learner.last_check_ms = at_ms
        learner.backend = event["backend"] or learner.backend
        learner.server_version = event["server_version"] or learner.server_version
        passed = event["passed"] == "1"
        if cell.status != "passed" or passed:
            cell.status = "passed" if passed else "failed"
        cell.attempts = max(cell.attempts, int(event["attempt"]))
        # Time on task from the server's clock too: `check` and `watch` report none.
        cell.seconds = max(cell.seconds, int(event["seconds"]), (at_ms - cell.since_ms) // 1000)
        cell.hints = max(cell.hints, int(event["hints"]))
        checks = parse_checks(event["checks"]) or ()
        cell.failing = tuple(check for check, ok in checks if not ok)
        if passed:
            self._move_on(learner, number, at_ms)

    def _lower(self, learner_id: str, remove: bool) -> None:
        """The trainer lowered a learner's hand (``clear``) or removed the learner."""
        target = self._learners.get(learner_id)
        if target is None and remove:
            target = self._learners[learner_id] = _LearnerState("?", learner_id)
        if target is not None:
            target.hand_ms = None
            target.removed = target.removed or remove

    def _move_on(self, learner: _LearnerState, number: int, at_ms: int) -> None:
        """A step passed or skipped: the learner is now on the module's next step."""
        index = self._order.index(number)
        if index + 1 < len(self._order):
            learner.current = self._order[index + 1]
            learner.current_since_ms = at_ms

    @property
    def events(self) -> int:
        """Distinct events folded so far."""
        return self._events

    @property
    def removed(self) -> set[str]:
        """The ids of learners the trainer removed."""
        return {learner_id for learner_id, item in self._learners.items() if item.removed}

    # -- the folded state, kept by the class server so a board starts without re-reading ----
    def dump_state(self) -> str:
        """The folded state as JSON (see :meth:`load_state`)."""
        return json.dumps(
            {
                "format": _STATE_FORMAT,
                "last_id": self._last_id,
                "events": self._events,
                "skipped": self.skipped,
                "learners": [
                    {
                        **{name: getattr(learner, name) for name in _LEARNER_FIELDS},
                        "steps": {
                            str(number): [getattr(cell, name) for name in _STEP_FIELDS]
                            for number, cell in learner.steps.items()
                        },
                    }
                    for learner in self._learners.values()
                ],
            },
            separators=(",", ":"),
        )

    def load_state(self, text: str) -> bool:
        """Start from a state :meth:`dump_state` wrote; False (and nothing changed) when
        ``text`` is not one: the board then reads the stream from the start."""
        try:
            data = json.loads(text)
            if data["format"] != _STATE_FORMAT:
                return False
            learners = {}
            for item in data["learners"]:
                learner = _LearnerState(
                    **{name: _typed(item[name], kind) for name, kind in _LEARNER_FIELDS.items()}
                )
                if not learner_id_ok(learner.learner_id):
                    return False
                learner.name = clean_text(learner.name, MAX_NAME_CHARS) or "?"
                for number, values in item["steps"].items():
                    if int(number) not in self._steps:
                        return False
                    cell = _StepState(
                        *(
                            _typed(v, kind)
                            for v, kind in zip(values, _STEP_FIELDS.values(), strict=True)
                        )
                    )
                    cell.failing = tuple(clean_text(c, 64) for c in cell.failing)
                    learner.steps[int(number)] = cell
                if learner.current is not None and learner.current not in self._steps:
                    return False
                learners[learner.learner_id] = learner
            last_id = str(data["last_id"])
            events, skipped = int(data["events"]), int(data["skipped"])
        except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
            return False
        self._learners, self._last_id, self._events, self.skipped = (
            learners, last_id, events, skipped,
        )  # fmt: skip
        self._seen.clear()
        return True

    def dump_final(self, ended_at: float) -> str:
        """The board as the class ends (see :meth:`load_final`)."""
        return json.dumps(
            {
                "ended_at": ended_at,
                "state": self.dump_state(),
                "refused": self.refused,
                "refused_joins": self.refused_joins,
                "unstored": self.unstored,
            }
        )

    def load_final(self, text: str) -> bool:
        """Start from the board :meth:`dump_final` wrote as the class ended; False when
        ``text`` is not one."""
        try:
            data = json.loads(text)
            ended_at = float(data["ended_at"])
            counts = [int(data[name]) for name in ("refused", "refused_joins", "unstored")]
            state = str(data["state"])
        except (ValueError, RecursionError, KeyError, TypeError):
            return False
        if not self.load_state(state):
            return False
        self.refused, self.refused_joins, self.unstored = counts
        self.ended_at = ended_at
        return True

    def snapshot(self, now: float | None = None) -> BoardSnapshot:
        """The board as it stands (``now`` in seconds since the epoch; an ended class
        stands at its end)."""
        moment = (self.ended_at or time.time()) if now is None else now
        present = [learner for learner in self._learners.values() if not learner.removed]
        names = Counter(learner.name.casefold() for learner in present)
        words = Counter((item.name.casefold(), _aloud(item.learner_id)) for item in present)
        rows = []
        for learner in present:
            shown = learner.name
            if names[learner.name.casefold()] > 1:
                word = _aloud(learner.learner_id)
                shown = f"{learner.name} ({word})"
                if words[(learner.name.casefold(), word)] > 1:
                    shown = f"{learner.name} ({word} {learner.learner_id[:4]})"
            rows.append(self._row(learner, moment, shown))
        slugs = {step.number: step.slug for step in self.module.steps}
        tally: dict[int, Counter[str]] = {number: Counter() for number in self._order}
        for row in rows:
            for number, cell in row.steps.items():
                tally[number][cell.status] += 1
        columns = tuple(
            StepColumn(
                number=step.number,
                slug=step.slug,
                passed=tally[step.number]["passed"],
                failed=tally[step.number]["failed"],
                skipped=tally[step.number]["skipped"],
            )
            for step in self.module.steps
        )
        failing: Counter[tuple[int, str]] = Counter()
        for learner in present:
            # Only learners now on the step: one who moved past it is not failing it.
            now_on = learner.current
            state = learner.steps.get(now_on) if now_on is not None else None
            on_it = now_on is not None and state is not None and not learner.left
            if on_it and state is not None and now_on is not None and state.status == "failed":
                failing.update(
                    (now_on, check)
                    for check in set(state.failing)
                    # With the course's names known, only the course's checks are shown.
                    if not self.check_names or (now_on, check) in self.check_names
                )
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
        hands = tuple(
            sorted(
                (row for row in rows if row.hand_minutes is not None),
                key=lambda row: -(row.hand_minutes or 0.0),
            )
        )
        return BoardSnapshot(
            class_id=self.config.class_id,
            module=self.module.id,
            generated_at=moment,
            elapsed_seconds=max(0.0, moment - self.config.started_at),
            planned_minutes=self.module.planned_minutes,
            events=self._events,
            learners=tuple(sorted(rows, key=lambda row: row.shown_name.casefold())),
            steps=columns,
            failing=top,
            stuck=stuck,
            hands=hands,
            rejected=self.skipped + self.refused,
            rejected_joins=self.refused_joins,
            max_learners=self.config.max_learners,
            unstored=self.unstored,
            memory_full=self.memory is not None
            and self.memory[1] > 0
            and self.memory[0] >= self.memory[1] * 0.95,
        )

    def _row(self, learner: _LearnerState, moment: float, shown: str) -> LearnerRow:
        now_ms = moment * 1000
        stuck = None
        on_step = None
        current = learner.steps.get(learner.current) if learner.current is not None else None
        if learner.current is not None and not learner.left:
            on_step = round(max(0.0, now_ms - learner.current_since_ms) / 60_000, 1)
        failing_now = current is not None and current.status == "failed"
        if failing_now and on_step is not None and on_step >= self.stuck_minutes:
            stuck = on_step
        never = not learner.steps
        quiet_since = learner.last_check_ms or learner.joined_ms
        idle = not learner.left and (now_ms - quiet_since) / 60_000 >= self.idle_minutes
        return LearnerRow(
            name=learner.name,
            learner_id=learner.learner_id,
            steps={
                number: LearnerStep(
                    cell.status, cell.attempts, cell.seconds, cell.hints, cell.failing
                )
                for number, cell in learner.steps.items()
            },
            current_step=learner.current,
            stuck_minutes=stuck,
            backend=learner.backend,
            server_version=learner.server_version,
            left=learner.left,
            shown_name=shown,
            on_step_minutes=on_step,
            last_seen_seconds=max(0.0, moment - learner.last_ms / 1000),
            idle=idle,
            never_started=never,
            hand_minutes=(
                None
                if learner.hand_ms is None
                else round(max(0.0, now_ms - learner.hand_ms) / 60_000, 1)
            ),
        )


_STATE_FORMAT = 2
_LEARNER_FIELDS: dict[str, object] = {
    "name": str, "learner_id": str, "current": (int, None), "current_since_ms": int,
    "joined_ms": int, "last_ms": int, "last_check_ms": int, "backend": str,
    "server_version": str, "left": bool, "hand_ms": (int, None), "removed": bool,
}  # fmt: skip
_STEP_FIELDS: dict[str, object] = {
    "status": str, "attempts": int, "seconds": int, "hints": int, "failing": tuple,
    "since_ms": int, "last_ms": int,
}  # fmt: skip
_STATUSES = frozenset({"passed", "failed", "skipped", "not-started"})


def _typed(value: object, kind: object) -> Any:
    """``value`` when it has the type ``kind`` names (a state read back); TypeError if not."""
    if kind == (int, None):
        if value is None:
            return None
        kind = int
    if kind is tuple:
        if not isinstance(value, list) or len(value) > 64:
            raise TypeError(kind)
        return tuple(str(item) for item in value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(kind)
    if not isinstance(value, kind):  # type: ignore[arg-type]
        raise TypeError(kind)
    if kind is str and isinstance(value, str) and len(value) > 64 and value not in _STATUSES:
        return value[:64]
    return value


def _aloud(learner_id: str) -> str:
    return ALOUD[int(learner_id[:8], 16) % len(ALOUD)]


def _csv_text(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ tab or CR would make it a
    formula."""
    text = clean_text(text, 200)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
    """Raised hands first, then stuck learners (longest first), then everyone else by name."""
    return sorted(
        rows,
        key=lambda row: (
            row.hand_minutes is None,
            row.stuck_minutes is None,
            -(row.stuck_minutes or 0),
        ),
    )
