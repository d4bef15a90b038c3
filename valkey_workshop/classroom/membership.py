"""A learner's class: joined with a code, kept in the workdir, published to on every check.

Publishing never slows or breaks learning: short timeouts, and an outbox file in the workdir
for events that could not be sent, re-sent in order before the next ones. Every event carries
an id, so a re-send (after a half-finished send, say) is harmless: the board counts each id
once.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import valkey
from filelock import FileLock, Timeout

from valkey_workshop.classroom.config import LEARNER_USER, JoinCode, events_key
from valkey_workshop.errors import ServerError, UsageError

MEMBERSHIP_FILE = ".workshop-class.json"
OUTBOX_FILE = ".workshop-class-outbox.jsonl"
LOCK_FILE = ".workshop-class.lock"
EVENT_FORMAT = "1"
#: A class never waits on its server for longer than this (connect and each reply).
CONNECT_TIMEOUT_SECONDS = 0.5
REPLY_TIMEOUT_SECONDS = 1.0
#: The stream keeps about this many events (XADD MAXLEN ~): a whole class, many times over.
STREAM_MAX_EVENTS = 500_000
MAX_NAME_CHARS = 40

Event = dict[str, str]


@dataclass(frozen=True)
class Membership:
    """The class this workdir publishes to, and who the learner is in it."""

    host: str
    port: int
    class_id: str
    password: str
    tls: bool
    name: str
    learner_id: str

    @property
    def code(self) -> JoinCode:
        return JoinCode(self.host, self.port, self.class_id, self.password, self.tls)


@dataclass(frozen=True)
class PublishOutcome:
    """What happened to this check's events: sent, or kept in the outbox (and why)."""

    sent: int
    queued: int
    problem: str | None = None

    @property
    def line(self) -> str | None:
        """One line for the learner, only when publishing is paused."""
        if self.problem is None:
            return None
        return (
            f"Class publishing paused: {self.problem}; {self.queued} result(s) kept in the "
            "outbox and sent later. Your check is unaffected."
        )


def validate_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_CHARS or not cleaned.isprintable():
        raise UsageError(f"--name: give a name of 1 to {MAX_NAME_CHARS} printable characters.")
    return cleaned


class ClassPublisher:
    """Publishes a workdir's check results to its class (when it has joined one)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.path = workdir / MEMBERSHIP_FILE
        self.outbox = workdir / OUTBOX_FILE
        self._lock = FileLock(str(workdir / LOCK_FILE), timeout=5)

    def membership(self) -> Membership | None:
        if not self.path.is_file():
            return None
        try:
            return Membership(**json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # a damaged file: not in a class; `workshop join` writes a new one

    def join(self, code: JoinCode, name: str) -> Membership:
        """Check the class answers with these credentials, then remember it.

        Raises:
            ServerError: the class server cannot be reached or refuses the code.
        """
        existing = self.membership()
        learner_id = existing.learner_id if existing else uuid.uuid4().hex[:12]
        membership = Membership(
            code.host, code.port, code.class_id, code.password, code.tls, name, learner_id
        )
        problem = _send(membership, [_event(membership, {"kind": "join"})])
        if problem is not None:
            raise ServerError(f"Cannot join the class at {code.host}:{code.port}: {problem}.")
        self.workdir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(membership), handle)
        return membership

    def leave(self) -> Membership | None:
        """Stop publishing (the outbox goes too: those results are no longer wanted)."""
        membership = self.membership()
        for path in (self.path, self.outbox):
            path.unlink(missing_ok=True)
        return membership

    def publish(self, payloads: Iterable[Mapping[str, str]]) -> PublishOutcome | None:
        """Send ``payloads`` (after anything waiting in the outbox), or keep them for later.

        None when this workdir has joined no class. Never raises for the network.
        """
        membership = self.membership()
        if membership is None:
            return None
        fresh = [_event(membership, payload) for payload in payloads]
        try:
            with self._lock:
                waiting = self._read_outbox()
                problem = _send(membership, [*waiting, *fresh])
                if problem is None:
                    self.outbox.unlink(missing_ok=True)
                    return PublishOutcome(sent=len(waiting) + len(fresh), queued=0)
                self._append_outbox(fresh)
                return PublishOutcome(0, len(waiting) + len(fresh), problem)
        except Timeout:
            return PublishOutcome(0, 0, "another workshop process holds the outbox")
        except OSError as error:
            return PublishOutcome(0, 0, f"the outbox cannot be written ({error.strerror})")

    def _read_outbox(self) -> list[Event]:
        if not self.outbox.is_file():
            return []
        events = []
        for line in self.outbox.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash; the rest stands
            if isinstance(event, dict):
                events.append({str(k): str(v) for k, v in event.items()})
        return events

    def _append_outbox(self, events: list[Event]) -> None:
        with self.outbox.open("a", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps(event) + "\n")


def _event(membership: Membership, payload: Mapping[str, str]) -> Event:
    return {
        "v": EVENT_FORMAT,
        "id": uuid.uuid4().hex,
        "learner": membership.name,
        "learner_id": membership.learner_id,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **payload,
    }


def _send(membership: Membership, events: list[Event]) -> str | None:
    """XADD every event in order; None on success, else why not (never raises)."""
    if not events:
        return None
    client = valkey.Valkey(
        host=membership.host,
        port=membership.port,
        username=LEARNER_USER,
        password=membership.password,
        ssl=membership.tls,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REPLY_TIMEOUT_SECONDS,
        retry_on_timeout=False,
    )
    key = events_key(membership.class_id)
    try:
        pipe = client.pipeline(transaction=False)
        for event in events:
            pipe.xadd(key, event, maxlen=STREAM_MAX_EVENTS, approximate=True)
        pipe.execute()
    except valkey.AuthenticationError:
        return "the class server refused the join code's password"
    except valkey.exceptions.NoPermissionError:
        return "the class server does not let learners publish to this class"
    except (valkey.ConnectionError, valkey.TimeoutError) as error:
        return f"the class server at {membership.host}:{membership.port} is unreachable ({error})"
    except valkey.ResponseError as error:
        return f"the class server answered {error}"
    finally:
        client.close()
    return None


def step_payload(
    *,
    kind: str,
    module: str,
    number: int,
    slug: str,
    passed: bool,
    checks: list[tuple[str, bool]],
    attempt: int,
    seconds: float,
    hints: int,
    backend: str,
    server_version: str,
) -> dict[str, str]:
    """One step result as sent: ids and numbers only (no code, no paths, no passwords)."""
    return {
        "kind": kind,
        "module": module,
        "step": str(number),
        "slug": slug,
        "passed": "1" if passed else "0",
        "checks": json.dumps([[check_id, 1 if ok else 0] for check_id, ok in checks]),
        "attempt": str(attempt),
        "seconds": str(int(seconds)),
        "hints": str(hints),
        "backend": backend,
        "server_version": server_version,
    }
