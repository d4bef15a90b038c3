"""Progress: one small versioned JSON file in the workdir, written atomically.

A corrupt or unreadable file is moved aside (never deleted) and reported; the learner starts
from empty progress instead of a crash.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

PROGRESS_FORMAT = 1
PROGRESS_FILE = ".workshop-progress.json"

Status = Literal["not-started", "passed", "failed", "skipped"]
_STATUSES = ("not-started", "passed", "failed", "skipped")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class CallExtreme:
    """One Valkey call remembered for the module summary (the slowest or fastest so far)."""

    call: str
    latency_us: float

    @classmethod
    def from_json(cls, data: Any) -> CallExtreme | None:
        if not isinstance(data, dict) or "call" not in data:
            return None
        return cls(str(data["call"]), float(data.get("latency_us", 0.0)))


@dataclass
class StepProgress:
    """What the learner has done on one step."""

    status: Status = "not-started"
    attempts: int = 0
    hints_revealed: int = 0
    passed_at: str | None = None
    last_checked_at: str | None = None
    seconds_spent: float = 0.0
    slowest_call: CallExtreme | None = None
    fastest_call: CallExtreme | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepProgress:
        status = data.get("status", "not-started")
        return cls(
            status=status if status in _STATUSES else "not-started",
            attempts=int(data.get("attempts", 0)),
            hints_revealed=int(data.get("hints_revealed", 0)),
            passed_at=data.get("passed_at"),
            last_checked_at=data.get("last_checked_at"),
            seconds_spent=float(data.get("seconds_spent", 0.0)),
            slowest_call=CallExtreme.from_json(data.get("slowest_call")),
            fastest_call=CallExtreme.from_json(data.get("fastest_call")),
        )

    def remember_calls(self, calls: list[tuple[str, float]]) -> None:
        """Keep the slowest and fastest of ``calls`` (summary, µs) across all checks."""
        for call, latency_us in calls:
            if self.slowest_call is None or latency_us > self.slowest_call.latency_us:
                self.slowest_call = CallExtreme(call, latency_us)
            if self.fastest_call is None or latency_us < self.fastest_call.latency_us:
                self.fastest_call = CallExtreme(call, latency_us)

    @property
    def ever_passed(self) -> bool:
        return self.passed_at is not None


@dataclass
class Progress:
    """Every module's steps, keyed by module id then step slug."""

    modules: dict[str, dict[str, StepProgress]] = field(default_factory=dict)

    def step(self, module_id: str, slug: str) -> StepProgress:
        """The step's progress, created empty on first use."""
        return self.modules.setdefault(module_id, {}).setdefault(slug, StepProgress())

    def peek(self, module_id: str, slug: str) -> StepProgress:
        """The step's progress without creating an entry."""
        return self.modules.get(module_id, {}).get(slug, StepProgress())

    def skip(self, module_id: str, slug: str) -> StepProgress:
        """Mark a step skipped; a passed step stays passed."""
        entry = self.step(module_id, slug)
        if entry.status != "passed":
            entry.status = "skipped"
        return entry

    def add_time(self, module_id: str, slug: str, seconds: float) -> None:
        self.step(module_id, slug).seconds_spent += max(0.0, seconds)

    def record_check(self, module_id: str, slug: str, passed: bool) -> StepProgress:
        entry = self.step(module_id, slug)
        entry.attempts += 1
        entry.last_checked_at = now_iso()
        # The status is the latest verdict: a step that passed once and fails now (after a
        # reset, say) is failed; ``passed_at`` remembers that it passed before.
        entry.status = "passed" if passed else "failed"
        if passed:
            entry.passed_at = entry.passed_at or entry.last_checked_at
        return entry

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": PROGRESS_FORMAT,
            "modules": {
                module: {slug: asdict(step) for slug, step in steps.items()}
                for module, steps in self.modules.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Progress:
        if not isinstance(data, dict) or data.get("format_version") != PROGRESS_FORMAT:
            raise ValueError("not a progress file of this version")
        modules = data.get("modules", {})
        if not isinstance(modules, dict):
            raise ValueError("'modules' is not a table")
        return cls(
            {
                module: {slug: StepProgress.from_json(entry) for slug, entry in steps.items()}
                for module, steps in modules.items()
            }
        )


@dataclass(frozen=True)
class LoadedProgress:
    progress: Progress
    warning: str | None


class ProgressStore:
    """Reads and writes ``<workdir>/.workshop-progress.json``."""

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / PROGRESS_FILE

    def load(self) -> LoadedProgress:
        """The saved progress; a corrupt file is moved aside and named in ``warning``."""
        if not self.path.exists():
            return LoadedProgress(Progress(), None)
        try:
            return LoadedProgress(
                Progress.from_json(json.loads(self.path.read_text("utf-8"))), None
            )
        except (ValueError, TypeError, AttributeError, OSError) as error:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            self.path.replace(aside)
            return LoadedProgress(
                Progress(),
                f"Progress file {self.path} could not be read ({error}); it was moved to "
                f"{aside} and progress starts afresh.",
            )

    def save(self, progress: Progress) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(progress.to_json(), indent=2, sort_keys=True) + "\n"
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
