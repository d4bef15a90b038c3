"""A learner's class: joined with a code, kept in the workdir, published to on every check.

Joining asks the class server for a user of the learner's own: the learner picks a random id
and a secret, pushes the id, its name and the secret's SHA-256 onto the class's join list (all
the join code's user may do), and waits until the class server process has created the user.
From then on the learner writes only its own inbox key, a batch of events at a time
(``SET ... NX``: a batch the server has not taken yet is never overwritten). The class server
process validates each event and appends it to the stream with its own id and its own clock.

Publishing never slows or breaks learning: short timeouts, and an outbox file in the workdir
(mode 0600: it holds the learner's secret's partner, the id) for events that could not be
sent, re-sent in order before the next ones, and by a background sender as soon as the class
server answers again. Every event carries an id, so a re-send is harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import valkey
from filelock import FileLock, Timeout

from valkey_workshop.classroom.config import (
    JoinCode,
    alive_key,
    announce_key,
    class_user,
    inbox_key,
    joins_key,
    refusal_key,
)
from valkey_workshop.classroom.events import MAX_NAME_CHARS, clean_text
from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.words import plural

MEMBERSHIP_FILE = ".workshop-class.json"
OUTBOX_FILE = ".workshop-class-outbox.jsonl"
LOCK_FILE = ".workshop-class.lock"
SENDER_LOCK_FILE = ".workshop-class-sender.lock"
SAID_FILE = ".workshop-class-said"
EVENT_FORMAT = "2"
#: A class never waits on its server for longer than this (connect and each reply).
CONNECT_TIMEOUT_SECONDS = 0.5
REPLY_TIMEOUT_SECONDS = 1.0
#: How long ``join`` waits for the class server process to create the learner's user.
JOIN_WAIT_SECONDS = 10.0
#: Events per inbox batch (the class server refuses larger batches).
BATCH_EVENTS = 40
#: The background sender gives up after this long (``$WORKSHOP_CLASS_SENDER_SECONDS``).
SENDER_SECONDS_ENV = "WORKSHOP_CLASS_SENDER_SECONDS"
SENDER_SECONDS = 7_200.0
#: ``WORKSHOP_CLASS_SENDER=0`` turns the background sender off (results then wait for the
#: next check): for a CI job that must leave no process behind.
SENDER_ENV = "WORKSHOP_CLASS_SENDER"

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
    #: The password of the learner's own user (the class server knows only its SHA-256).
    secret: str = ""
    #: ``workshop leave`` ran while the class server was away: the leave event waits in the
    #: outbox, and nothing else is sent.
    leaving: bool = False

    @property
    def code(self) -> JoinCode:
        return JoinCode(self.host, self.port, self.class_id, self.password, self.tls)

    @property
    def user(self) -> str:
        return class_user(self.class_id, self.learner_id)


@dataclass(frozen=True)
class PublishOutcome:
    """What happened to this check's events: sent, or kept in the outbox (and why)."""

    sent: int
    queued: int
    problem: str | None = None
    #: What the trainer said (``workshop class say``), when it is new to this workdir.
    announcement: str | None = None

    @property
    def line(self) -> str | None:
        """One line for the learner, only when publishing is paused."""
        if self.problem is None:
            return None
        return (
            f"Class publishing paused: {self.problem}; {plural(self.queued, 'result')} kept "
            "in the outbox and sent later. Your check is unaffected."
        )


def validate_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if (
        not cleaned
        or len(cleaned) > MAX_NAME_CHARS
        or clean_text(cleaned, MAX_NAME_CHARS) != (cleaned)
    ):
        raise UsageError(f"--name: give a name of 1 to {MAX_NAME_CHARS} printable characters.")
    return cleaned


def _client(code: JoinCode, username: str, password: str) -> valkey.Valkey:
    return valkey.Valkey(
        host=code.host,
        port=code.port,
        username=username,
        password=password,
        ssl=code.tls,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REPLY_TIMEOUT_SECONDS,
        retry_on_timeout=False,
        decode_responses=True,
    )


def _problem(error: BaseException, host: str, port: int) -> str:
    """Why a call to the class server failed, in one phrase."""
    if isinstance(error, valkey.AuthenticationError):
        return "the class server refused the join code's password"
    if isinstance(error, valkey.exceptions.NoPermissionError):
        return "the class server does not let this learner publish to this class"
    if isinstance(error, valkey.TimeoutError | valkey.ConnectionError) and not isinstance(
        error, valkey.exceptions.InvalidResponse | valkey.exceptions.AuthenticationError
    ):
        text = str(error)
        if "Protocol" not in text and "protocol" not in text:
            return f"the class server at {host}:{port} is unreachable ({text})"
    if isinstance(error, valkey.ResponseError):
        return f"the class server answered {clean_text(str(error), 120)}"
    return f"{host}:{port} does not answer like a Valkey server ({clean_text(str(error), 80)})"


#: Everything a call to a class address can raise: a server, or something else entirely.
_CALL_ERRORS = (valkey.ValkeyError, OSError, ValueError, UnicodeError, IndexError, TypeError)


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

    def join(
        self, code: JoinCode, name: str, wait_seconds: float = JOIN_WAIT_SECONDS
    ) -> Membership:
        """Ask the class for a user of this learner's own, wait until it exists, remember it.

        Raises:
            ServerError: the class server cannot be reached, refuses the code, is not a
                Valkey server, or does not take the request in time.
        """
        existing = self.membership()
        if existing is not None and existing.class_id == code.class_id and existing.secret:
            learner_id, secret = existing.learner_id, existing.secret
        else:
            learner_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        membership = Membership(
            code.host, code.port, code.class_id, code.password, code.tls, name, learner_id,
            secret,
        )  # fmt: skip
        where = f"Cannot join the class at {code.host}:{code.port}"
        request = {
            "id": learner_id,
            "name": name,
            "hash": hashlib.sha256(secret.encode()).hexdigest(),
        }
        joiner = _client(code, code.join_user, code.password)
        try:
            joiner.rpush(joins_key(code.class_id), json.dumps(request))
        except _CALL_ERRORS as error:
            raise ServerError(f"{where}: {_problem(error, code.host, code.port)}.") from None
        finally:
            joiner.close()
        deadline = time.monotonic() + wait_seconds
        while not _user_ready(membership):
            refusal, alive = _join_answer(code, learner_id)
            if refusal is not None:
                raise ServerError(f"{where}: {_REFUSALS.get(refusal, 'the class refused it')}.")
            if time.monotonic() > deadline:
                raise ServerError(f"{where}: {_no_answer(alive, wait_seconds)}")
            time.sleep(0.05)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._save(membership)
        return membership

    def _save(self, membership: Membership) -> None:
        _write_private(self.path, json.dumps(asdict(membership)))

    def leave(self) -> tuple[Membership, bool] | None:
        """Stop publishing: send what waits in the outbox and a ``leave`` event (the board
        then stops counting this learner as stuck), then forget the class. When the class
        server is away, the leave waits in the outbox and the background sender delivers it
        (then forgets the class). Returns the membership and whether the leave is queued."""
        membership = self.membership()
        if membership is None:
            return None
        if membership.leaving:
            return membership, True
        outcome = self.publish([{"kind": "leave"}])
        if outcome is not None and outcome.queued:
            with contextlib.suppress(OSError):
                self._save(replace(membership, leaving=True))
            return membership, True
        self._forget()
        return membership, False

    def _forget(self) -> None:
        for path in (self.path, self.outbox):
            path.unlink(missing_ok=True)

    def publish(
        self, payloads: Iterable[Mapping[str, str]], background: bool = True
    ) -> PublishOutcome | None:
        """Send ``payloads`` (after anything waiting in the outbox), or keep them for later;
        with ``background``, a sender process delivers what is kept as soon as it can.

        None when this workdir has joined no class. Never raises for the network.
        """
        membership = self.membership()
        if membership is None:
            return None
        fresh = [] if membership.leaving else [_event(payload) for payload in payloads]
        try:
            with self._lock:
                waiting = [*self._read_outbox(), *fresh]
                sent, problem = _send(membership, waiting[:BATCH_EVENTS])
                rest = waiting[sent:]
                if rest or self.outbox.exists():
                    self._write_outbox(rest)
                if membership.leaving and not rest:
                    self._forget()
        except Timeout:
            return PublishOutcome(0, 0, "another workshop process holds the outbox")
        except OSError as error:
            return PublishOutcome(0, 0, f"the outbox cannot be written ({error.strerror})")
        if rest and background and os.environ.get(SENDER_ENV) != "0":
            spawn_sender(self.workdir)
        said = None if problem else self._announcement_of(membership)
        return PublishOutcome(sent, len(rest), problem, said)

    def announcement(self) -> str | None:
        """What the trainer said, when this workdir has not shown it yet (never raises)."""
        membership = self.membership()
        if membership is None or membership.leaving:
            return None
        return self._announcement_of(membership)

    def _announcement_of(self, membership: Membership) -> str | None:
        client = _client(membership.code, membership.user, membership.secret)
        try:
            raw = client.get(announce_key(membership.class_id))
        except _CALL_ERRORS:
            return None
        finally:
            client.close()
        if not isinstance(raw, str) or len(raw) > 4_096:
            return None
        said = self.workdir / SAID_FILE
        try:
            if said.is_file() and said.read_text(encoding="utf-8") == raw:
                return None
            _write_private(said, raw)
        except OSError:
            return None
        try:
            text = json.loads(raw).get("text", "")
        except (ValueError, AttributeError):
            return None
        return clean_text(text, 200) or None

    def pending(self) -> int:
        """How many events wait in the outbox."""
        return len(self._read_outbox())

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

    def _write_outbox(self, events: list[Event]) -> None:
        if not events:
            self.outbox.unlink(missing_ok=True)
            return
        _write_private(self.outbox, "".join(json.dumps(event) + "\n" for event in events))


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only (never world-readable)."""
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    temporary.chmod(0o600)
    temporary.replace(path)


class AnnouncementWatcher:
    """Asks the class every ``interval`` seconds for what the trainer said (``class say``),
    in a thread, so a guided session or a watch shows it without waiting for a check."""

    def __init__(self, workdir: Path, interval: float = 10.0) -> None:
        self.publisher = ClassPublisher(workdir)
        self.interval = interval
        self._said: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="class-say", daemon=True)

    def __enter__(self) -> AnnouncementWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            text = self.publisher.announcement()
            if text is not None:
                self._said.put(text)

    def said(self) -> list[str]:
        """What arrived since the last call."""
        texts = []
        while not self._said.empty():
            texts.append(self._said.get_nowait())
        return texts


def _event(payload: Mapping[str, str]) -> Event:
    return {"v": EVENT_FORMAT, "id": uuid.uuid4().hex, **payload}


#: What ``join`` says when the class server refused its request (:mod:`.relay`).
_REFUSALS = {
    "full": "the class is full (every seat the trainer set with `class serve --max-learners` "
    "is taken); ask the trainer to make room",
    "taken": "another learner's id was given (this workdir's class file is someone else's); "
    "delete .workshop-class.json and join again",
    "removed": "the trainer removed this learner from the class",
}


def _join_answer(code: JoinCode, learner_id: str) -> tuple[str | None, float | None]:
    """The class server's refusal of this learner's join request, if any, and when its
    relay last made a pass (seconds since the epoch); (None, None) when unknown."""
    client = _client(code, code.join_user, code.password)
    try:
        keys = (refusal_key(code.class_id, learner_id), alive_key(code.class_id))
        refusal, alive = client.mget(keys)
    except _CALL_ERRORS:
        return None, None  # an older class server, or a blip: wait for the user as before
    finally:
        client.close()
    try:
        at = float(alive) if isinstance(alive, str) else None
    except ValueError:
        at = None
    return (refusal if isinstance(refusal, str) else None), at


def _no_answer(alive: float | None, wait_seconds: float) -> str:
    if alive is not None and time.time() - alive < 5:
        return (
            f"the class server is running but did not take the join request within "
            f"{wait_seconds:.0f} s: many join requests are waiting (joins are taken a few "
            "a second); run the same `join` again in a minute."
        )
    return (
        f"the class server did not take the join request within {wait_seconds:.0f} s "
        "(is `workshop class serve` running?)."
    )


def _user_ready(membership: Membership) -> bool:
    client = _client(membership.code, membership.user, membership.secret)
    try:
        return bool(client.ping())
    except valkey.AuthenticationError:
        return False  # not created yet
    except _CALL_ERRORS as error:
        raise ServerError(
            f"Cannot join the class at {membership.host}:{membership.port}: "
            f"{_problem(error, membership.host, membership.port)}."
        ) from None
    finally:
        client.close()


def _send(membership: Membership, events: list[Event]) -> tuple[int, str | None]:
    """Put ``events`` in the learner's inbox as one batch: (how many were sent, why not).

    A batch the class server has not taken yet stays (``NX``): then nothing is sent and
    there is no problem; the events wait for the next try. Never raises.
    """
    if not events:
        return 0, None
    client = _client(membership.code, membership.user, membership.secret)
    try:
        taken = client.set(
            inbox_key(membership.class_id, membership.learner_id), json.dumps(events), nx=True
        )
    except _CALL_ERRORS as error:
        return 0, _problem(error, membership.host, membership.port)
    finally:
        client.close()
    return (len(events), None) if taken else (0, None)


def spawn_sender(workdir: Path) -> None:
    """Start the background sender for ``workdir`` (at most one runs; it ends by itself)."""
    probe = FileLock(str(workdir / SENDER_LOCK_FILE), timeout=0)
    try:
        probe.acquire()
    except (Timeout, OSError):
        return  # one is at work already
    probe.release()
    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "valkey_workshop.classroom.sender", str(workdir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )


def run_sender(workdir: Path) -> int:
    """The background sender: re-send the outbox until it is empty, the workdir leaves the
    class, or ``$WORKSHOP_CLASS_SENDER_SECONDS`` pass. One per workdir (a lock file)."""
    lock = FileLock(str(workdir / SENDER_LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return 0  # another sender is at work
    try:
        try:
            lifetime = float(os.environ.get(SENDER_SECONDS_ENV, SENDER_SECONDS))
        except ValueError:
            lifetime = SENDER_SECONDS
        deadline = time.monotonic() + lifetime
        publisher = ClassPublisher(workdir)
        pause = 0.2
        while time.monotonic() < deadline and workdir.is_dir():
            if publisher.membership() is None or publisher.pending() == 0:
                return 0
            outcome = publisher.publish([], background=False)
            if outcome is None or (outcome.queued == 0 and outcome.problem is None):
                return 0
            # Sent a batch: send the next at once; the server away: back off up to 5 s.
            pause = 0.2 if outcome.sent else min(5.0, pause * 2)
            time.sleep(pause)
        return 0
    finally:
        lock.release()


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
