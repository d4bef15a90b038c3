"""The messages between the runner, the worker and the fork server, typed.

Each travels as one JSON line: a :class:`Job` from the runner to a worker (on its stdin, or
inside a :class:`ForkRequest` to the fork server, which answers with :class:`ForkStarted` then
:class:`ForkFinished`), and the worker's events to the runner (one :data:`Event` a line in the
job's result file, each numbered under :data:`SEQ_FIELD` and signed under :data:`MAC_FIELD`
with the run's secret, which is never written: see ``worker.event_mac``).

The job says which checks run and how: ``only`` lists check ids in the order they run (None:
every check of ``checks``, in its order), and ``stop_at_first_failure`` ends the run at the
first check that fails. ``verify`` proves a wrong answer with its declared check alone, and
the mutation run orders the checks fastest first and stops at the first failure, with the
step's own ``checks.py``: nothing is generated.

Only the standard library here: the worker and the fork server import this before anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict, cast

#: The field of every event line that numbers it (from 0; the runner wants them in order).
SEQ_FIELD = "seq"
#: The field of every event line that signs it (HMAC-SHA256 under the run's secret).
MAC_FIELD = "mac"
#: How long, after a run, the fork server may take to stop what the worker left (its process
#: group dying out after the SIGKILL): the runner waits that long and more for its answer.
STRAY_SECONDS = 2.0


@dataclass(frozen=True)
class CheckSelection:
    """Which checks of a step a run runs, and whether it stops at the first failure."""

    #: Check ids in the order they run; None: every check, in the checks module's order.
    only: tuple[str, ...] | None = None
    #: The checks after the first one that fails do not run (they are reported as not run).
    stop_at_first_failure: bool = False


#: Every check of the step, each one run (what ``check`` and the guided session do).
ALL_CHECKS = CheckSelection()


class Job(TypedDict):
    """One run of a step's checks on one exercise file."""

    #: The step's checks module (absolute path).
    checks: str
    #: The learner's file (absolute path).
    exercise: str
    #: The server the checks (and the learner's code) talk to.
    url: str
    #: Carried by every event: learner code cannot forge a result without it.
    secret: str
    #: Memory learner code may use, in bytes (None: no limit).
    memory_limit: int | None
    #: Check ids to run, in this order; None runs every check in the module's order.
    only: list[str] | None
    #: End the run at the first check that fails (the checks after it do not run).
    stop_at_first_failure: bool
    #: Where the events go (set by the runner once it has made the run's scratch folder).
    result_file: NotRequired[str]
    #: The runner's process id: a worker whose parent is another process exits at once.
    parent_pid: NotRequired[int]
    #: The seed of the run's generated scenarios (``check --seed`` replays it).
    seed: NotRequired[int]
    #: ``checks`` as the runner compiled it (base64 of :func:`marshal.dumps`, this same
    #: interpreter): the worker runs it instead of compiling the file again for every run.
    checks_code: NotRequired[str]


class ForkRequest(TypedDict):
    """The runner to the fork server: fork a worker for ``job``."""

    job: Job
    cwd: str
    stdout: str
    stderr: str
    env: dict[str, str]
    limit: NotRequired[float]


class ForkStarted(TypedDict):
    """The fork server forked the worker (its process id)."""

    started: int


class ForkFinished(TypedDict):
    """The worker is gone: its exit code, and whether the time limit stopped it."""

    returncode: int
    timed_out: bool


class StartEvent(TypedDict):
    event: Literal["start"]
    id: str


class ResultEvent(TypedDict):
    event: Literal["result"]
    id: str
    passed: bool
    message: str
    duration_ms: float
    calls: list[dict[str, object]]
    call_count: int


class LoadErrorEvent(TypedDict):
    """The exercise did not import."""

    event: Literal["load-error"]
    message: str


class NoteEvent(TypedDict):
    """Worth adding to the first failure (a file beside the exercise named like a module)."""

    event: Literal["note"]
    text: str


class StoppedEvent(TypedDict):
    """The checks ended early (something escaped a check)."""

    event: Literal["stopped"]
    message: str


class OutputEvent(TypedDict):
    """The tail of what learner code printed."""

    event: Literal["output"]
    text: str


class DoneEvent(TypedDict):
    event: Literal["done"]


Event = (
    StartEvent | ResultEvent | LoadErrorEvent | NoteEvent | StoppedEvent | OutputEvent | DoneEvent
)


_JOB_KEYS = frozenset(Job.__required_keys__)


def encode(message: Job | ForkRequest | ForkStarted | ForkFinished) -> bytes:
    """One message as the JSON line it travels as."""
    return json.dumps(message).encode() + b"\n"


def decode_job(line: bytes | str) -> Job:
    """A :class:`Job` from its JSON line.

    Raises:
        ValueError: not a JSON object with every key a job has.
    """
    data: Any = json.loads(line)
    if not isinstance(data, dict) or not data.keys() >= _JOB_KEYS:
        raise ValueError("not a checking job")
    return cast(Job, data)
