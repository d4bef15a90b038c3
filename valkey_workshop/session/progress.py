"""Progress: one small versioned JSON file in the workdir, written atomically.

Every change is one transaction (:meth:`ProgressStore.update`): read, modify and write under a
file lock, so two ``workshop`` processes on one workdir (a ``watch`` and a ``hint`` in another
terminal) never lose each other's updates. Readers need no lock: a write replaces the file in
one rename, so a reader sees the old file or the new one.

A corrupt file, or one whose values are not what this module writes (``Infinity``, a string
for a count), is moved aside (never deleted) and reported; the learner starts from empty
progress instead of a crash. Something that is not a regular file (a FIFO, a folder) is never
opened: reading a FIFO would wait for ever.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from valkey_workshop.errors import WorkshopError

PROGRESS_FORMAT = 1
PROGRESS_FILE = ".workshop-progress.json"

#: How long a command waits for another one's progress update (they take milliseconds).
LOCK_TIMEOUT_SECONDS = 30.0

Status = Literal["not-started", "passed", "failed", "skipped"]
_STATUSES = ("not-started", "passed", "failed", "skipped")


class ProgressFileError(WorkshopError):
    """The progress file could not be locked, read or written (read-only workdir, full disk);
    the message says which and names the file."""


class NotAFileError(ProgressFileError):
    """The progress path exists but is not a regular file; it is left alone, never opened."""


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    # bool is an int in Python, but ``true`` is not a count.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key!r} is {value!r}, not a count")
    return value


def _seconds(data: dict[str, Any], key: str) -> float:
    value = data.get(key, 0.0)
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{key!r} is {value!r}, not a duration")
    return float(value)


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key!r} is {value!r}, not text")
    return value


def _table(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a table")
    return value


def _no_constants(name: str) -> Any:
    # json accepts Infinity and NaN by default; no value this module writes is one.
    raise ValueError(f"{name} is not a valid value")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class CallExtreme:
    """One Valkey call remembered for the module summary (the slowest or fastest so far)."""

    call: str
    latency_us: float

    @classmethod
    def from_json(cls, data: Any) -> CallExtreme | None:
        """The call, None when absent; ValueError for anything this module never writes."""
        if data is None:
            return None
        table = _table(data, "a remembered call")
        call = table.get("call")
        if not isinstance(call, str):
            raise ValueError(f"a remembered call is {call!r}, not text")
        return cls(call, _seconds(table, "latency_us"))


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
    def from_json(cls, data: Any) -> StepProgress:
        """One step's entry; ValueError when a value has the wrong type or range."""
        table = _table(data, "a step")
        status = table.get("status", "not-started")
        if status not in _STATUSES:
            raise ValueError(f"status {status!r} is unknown")
        return cls(
            status=status,
            attempts=_count(table, "attempts"),
            hints_revealed=_count(table, "hints_revealed"),
            passed_at=_optional_text(table, "passed_at"),
            last_checked_at=_optional_text(table, "last_checked_at"),
            seconds_spent=_seconds(table, "seconds_spent"),
            slowest_call=CallExtreme.from_json(table.get("slowest_call")),
            fastest_call=CallExtreme.from_json(table.get("fastest_call")),
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

    def reset(self, module_id: str, slug: str) -> StepProgress:
        """The step's file is the starter again: not passed now (nor failed or skipped), while
        ``passed_at``, attempts, hints and time keep what the learner did before."""
        entry = self.step(module_id, slug)
        entry.status = "not-started"
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
        modules = _table(data.get("modules", {}), "'modules'")
        return cls(
            {
                module: {
                    slug: StepProgress.from_json(entry)
                    for slug, entry in _table(steps, f"module {module!r}").items()
                }
                for module, steps in modules.items()
            }
        )


@dataclass(frozen=True)
class LoadedProgress:
    progress: Progress
    warning: str | None


class ProgressStore:
    """Reads and writes ``<workdir>/.workshop-progress.json``; changes go through
    :meth:`update`, one locked transaction each."""

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / PROGRESS_FILE
        self.lock_path = workdir / f"{PROGRESS_FILE}.lock"
        #: Files moved aside by loads in this process, for the command to report.
        self.warnings: list[str] = []

    def load(self) -> LoadedProgress:
        """The saved progress; a corrupt file is moved aside and named in ``warning``.

        Raises:
            NotAFileError: the path is a FIFO, a folder or another non-regular file.
            ProgressFileError: the file exists but cannot be read, or moved aside.
        """
        try:
            raw = self._read()
        except FileNotFoundError:
            return LoadedProgress(Progress(), None)
        except OSError as error:
            raise ProgressFileError(
                f"Cannot read the progress file {self.path}: {error.strerror or error}."
            ) from error
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
            return LoadedProgress(Progress.from_json(data), None)
        except (ValueError, TypeError, RecursionError) as error:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            try:
                self.path.replace(aside)
            except FileNotFoundError:
                # Another command (a `list` beside a `watch`) found it corrupt too and moved it.
                return LoadedProgress(Progress(), None)
            except OSError as moving:
                raise ProgressFileError(
                    f"Progress file {self.path} could not be read ({error}) nor moved aside "
                    f"({moving.strerror}); move it away yourself."
                ) from moving
            warning = (
                f"Progress file {self.path} could not be read ({error}); it was moved to "
                f"{aside} and progress starts afresh."
            )
            self.warnings.append(warning)
            return LoadedProgress(Progress(), warning)

    def _read(self) -> bytes:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the file type is checked on
        # the open descriptor, so nothing can swap the file between the check and the read.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            descriptor = os.open(self.path, flags)
        except IsADirectoryError as error:  # Windows; Linux opens a folder and fstat tells
            raise self._not_a_file("a folder") from error
        with os.fdopen(descriptor, "rb") as stream:
            mode = os.fstat(descriptor).st_mode
            if stat.S_ISDIR(mode):
                raise self._not_a_file("a folder")
            if not stat.S_ISREG(mode):
                raise self._not_a_file("a FIFO" if stat.S_ISFIFO(mode) else "a special file")
            return stream.read()

    def _not_a_file(self, kind: str, path: Path | None = None) -> NotAFileError:
        shown = path or self.path
        return NotAFileError(
            f"{shown} is {kind}, not a progress file; it was left alone. Move it away "
            "and run the command again."
        )

    @contextmanager
    def update(self) -> Iterator[Progress]:
        """One transaction: lock, load, let the caller change the progress, save, unlock.

        Nothing is saved when the block raises. Keep the block short (no checks inside): other
        commands on this workdir wait for the lock.

        Raises:
            ProgressFileError: the lock or the file cannot be taken or written (read-only or
                full workdir); the caller's change is then not saved.
        """
        # Imported here: only commands that change progress pay for it (`list` reads only).
        from filelock import FileLock, Timeout  # noqa: PLC0415

        if self.lock_path.is_symlink():
            # Opening the lock file creates and truncates it: never through a link.
            raise self._not_a_file("guarded by a symbolic link lock file", self.lock_path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(self.lock_path, timeout=LOCK_TIMEOUT_SECONDS)
            lock.acquire()
        except Timeout as error:
            raise ProgressFileError(
                f"Another workshop command has held {self.lock_path} for "
                f"{LOCK_TIMEOUT_SECONDS:.0f} s; progress was not saved."
            ) from error
        except OSError as error:
            raise self._save_error(error) from error
        try:
            progress = self.load().progress
            yield progress
            try:
                self.save(progress)
            except OSError as error:
                raise self._save_error(error) from error
        finally:
            lock.release()

    def _save_error(self, error: OSError) -> ProgressFileError:
        reason = error.strerror or str(error)
        return ProgressFileError(f"Progress could not be saved to {self.path}: {reason}.")

    def save(self, progress: Progress) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half of one.
        Use :meth:`update` to change progress; this alone does not lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(progress.to_json(), indent=2, sort_keys=True, allow_nan=False) + "\n"
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
