"""The class server process's relay: the only writer of the class stream.

Learners cannot write the stream. The relay (a thread of ``workshop class serve``) takes:

- join requests from the join list, class-wide at :data:`JOIN_BURST` then
  :data:`JOINS_PER_SECOND`, up to the class's seats: it creates the learner's own ACL user
  (password given as a SHA-256 only the learner can match), whose rights are ``SET`` on its
  own inbox key and ``GET`` of the announcement, and writes the ``join`` event; a refused
  request (full, an id taken, removed) gets an answer ``join`` reads, and is counted;
- batches from the learners' inboxes: it validates every event (:func:`.events.clean_event`),
  stamps it with the learner id and name it knows (never the ones a learner writes), and
  appends it with ``XADD ... MAXLEN ~ N *``: the server picks the id from its clock and the
  relay picks the trim.

Limits are the relay's, not the learner's client: a batch of at most :data:`MAX_BATCH_BYTES`
(a larger value is deleted unread), events of at most :data:`.events.MAX_EVENT_BYTES`, and a
rate of :data:`RATE_PER_SECOND` events a second per learner with bursts of :data:`BURST`. A
batch over the learner's credit is left in its inbox until the credit covers it, so it (and
the next ones, in the learner's outbox) wait rather than get lost. Refused events are
counted per learner (``workshop-class:<id>:rejected``) for the board. An inbox is emptied
only once its batch is in the stream. The trainer's ``remove`` events (``class remove``) make
the relay delete the learner's user and free its seat. The memory budget is below.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import valkey

from valkey_workshop.classroom.board import ClassBoard
from valkey_workshop.classroom.config import (
    ClassConfig,
    alive_key,
    announce_key,
    class_user,
    events_key,
    inbox_key,
    joins_key,
    learners_key,
    refusal_key,
    rejected_key,
    state_key,
    unstored_key,
)
from valkey_workshop.classroom.events import (
    LEARNER_KINDS,
    MAX_EVENT_BYTES,
    MAX_NAME_CHARS,
    clean_event,
    clean_text,
)
from valkey_workshop.content.models import Module

#: The class server's memory budget. A server the workshop starts is capped at ``maxmemory``
#: 512 MB with no eviction (:data:`.serve.MAXMEMORY`); what anyone holding the join code can
#: make it hold, at worst:
#:
#: - the stream: :data:`STREAM_MAX_EVENTS` (20,000, plus the one 100-entry node ``MAXLEN ~``
#:   may keep) x :data:`.events.MAX_STORED_EVENT_BYTES` (2,304 B, plus ~40 B per entry,
#:   measured on Valkey 9.1) ≈ 47 MB;
#: - the inboxes: :data:`MAX_LEARNERS_LIMIT` (300) x 1 MB (``proto-max-bulk-len``, the least
#:   Valkey allows: one value per learner) = 300 MB;
#: - the join list: emptied beyond :data:`MAX_WAITING_JOINS` requests or
#:   :data:`MAX_JOIN_LIST_BYTES` (16 MB), checked every pass;
#: - the roll, the board's state, refusals and ACL users: under 15 MB for 300 learners;
#:
#: about 380 MB of 512 MB: no learner can take the class server to its cap, so a result
#: (a SET of an inbox, an XADD) never fails for want of memory.
STREAM_MAX_EVENTS = 20_000
MAX_BATCH_BYTES = 64 * 1024
#: How often the relay saves the board's folded state.
STATE_SECONDS = 1.0
MAX_BATCH_EVENTS = 40
RATE_PER_SECOND = 1.0
BURST = 120.0
#: A class takes this many learners unless ``class serve --max-learners`` says otherwise
#: (a room of 200-250), and never more than :data:`MAX_LEARNERS_LIMIT` (the budget above).
DEFAULT_MAX_LEARNERS = 250
MAX_LEARNERS_LIMIT = 300
#: Join requests waiting beyond this are a flood: the list is emptied (``join`` says to
#: try again).
MAX_WAITING_JOINS = 2_000
MAX_JOIN_LIST_BYTES = 16 * 1024 * 1024
#: Joins the class takes, class-wide: a burst (a room joining at once), then a few a second;
#: requests beyond wait in the list.
JOIN_BURST = 60.0
JOINS_PER_SECOND = 5.0
#: A refusal (``full``, ``taken``, ``removed``) is kept this long for ``join`` to read.
REFUSAL_SECONDS = 60
#: The field of the rejected-count hash that counts refused join requests.
REJECTED_JOINS = "joins"
_JOINS_PER_PASS = 200
_MAX_JOIN_BYTES = 1_024
_LEARNER = re.compile(r"[0-9a-f]{16}")
_HASH = re.compile(r"[0-9a-f]{64}")


def learner_acl(class_id: str, learner_id: str, password_hash: str) -> list[str]:
    """A learner's own user: write its inbox, read the announcement, nothing else."""
    return [
        "reset",
        "on",
        f"#{password_hash}",
        "resetchannels",
        f"%W~{inbox_key(class_id, learner_id)}",
        f"%R~{announce_key(class_id)}",
        "-@all",
        "+set",
        "+get",
        "+ping",
        "+hello",
        "+client|setinfo",
        "+client|setname",
    ]


@dataclass
class _Credit:
    tokens: float
    at: float
    burst: float = BURST
    rate: float = RATE_PER_SECOND
    # Read-modify-write from the relay's thread and from others (a test, the board): one at a
    # time, so that no update is lost.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def refill(self, now: float) -> float:
        with self._lock:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            return self.tokens

    def take(self, count: float) -> None:
        with self._lock:
            self.tokens -= count

    def set_to(self, tokens: float) -> None:
        """Put the credit at ``tokens`` now (an overdrawn class: a negative number)."""
        with self._lock:
            self.tokens = tokens
            self.at = time.monotonic()


@dataclass(frozen=True)
class _Learner:
    name: str
    password_hash: str


class Relay:
    """Validates what learners send and appends it to the class stream (see the module)."""

    def __init__(
        self,
        config: ClassConfig,
        module: Module,
        connect: Callable[[], valkey.Valkey],
        check_ids: Mapping[int, frozenset[str]] | None = None,
    ) -> None:
        self.config = config
        self.steps = frozenset(step.number for step in module.steps)
        #: Each step's check ids: a check event naming any other id is refused.
        self.check_ids = dict(check_ids) if check_ids is not None else _check_ids(module)
        self.max_learners = max(1, min(config.max_learners, MAX_LEARNERS_LIMIT))
        #: The board as the relay keeps it: folded as events arrive, saved every second
        #: (``workshop-class:<id>:state``) so a trainer's board starts without re-reading.
        self.board = ClassBoard(config, module)
        self._state_saved = 0.0
        self._state_events = -1
        self._alive_at = 0.0
        self._unstored_saved = 0
        self._connect = connect
        self._client: valkey.Valkey | None = None
        self._roll: dict[str, _Learner] = {}
        self._credit: dict[str, _Credit] = {}
        self._joins = _Credit(JOIN_BURST, time.monotonic(), JOIN_BURST, JOINS_PER_SECOND)
        #: Inbox batches left for want of credit: learner id -> (size, events).
        self._waiting: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._passes = 0
        self._passed = threading.Condition()
        #: How many events were refused in this process (the server keeps the per-learner
        #: counts).
        self.rejected = 0
        #: Learner events the server refused to append (their batches stay in the inboxes).
        self.unstored = 0

    # -- the learners' users ---------------------------------------------------------------
    def restore(self) -> int:
        """Re-create every known learner's user (a restarted server has lost them)."""
        client = self._conn()
        roll = client.hgetall(learners_key(self.config.class_id))
        for raw_id, raw in roll.items():
            learner_id = _text(raw_id)
            try:
                data = json.loads(_text(raw))
                learner = _Learner(str(data["name"]), str(data["hash"]))
            except (ValueError, KeyError, TypeError):
                continue
            self._create_user(client, learner_id, learner)
        return len(self._roll)

    def _create_user(self, client: valkey.Valkey, learner_id: str, learner: _Learner) -> None:
        client.execute_command(
            "ACL",
            "SETUSER",
            class_user(self.config.class_id, learner_id),
            *learner_acl(self.config.class_id, learner_id, learner.password_hash),
        )
        self._roll[learner_id] = learner
        self._credit.setdefault(learner_id, _Credit(BURST, time.monotonic()))

    def _remove_learners(self, client: valkey.Valkey) -> None:
        """Learners the trainer removed (``class remove``): their users, inboxes and places
        in the roll go, so their seats are free."""
        for learner_id in self.board.removed & self._roll.keys():
            client.execute_command("ACL", "DELUSER", class_user(self.config.class_id, learner_id))
            client.hdel(learners_key(self.config.class_id), learner_id)
            client.delete(inbox_key(self.config.class_id, learner_id))
            self._roll.pop(learner_id, None)
            self._credit.pop(learner_id, None)
            self._waiting.pop(learner_id, None)

    # -- one pass ----------------------------------------------------------------------------
    def drain_once(self, first_join: object = None) -> int:
        """Take the waiting joins (after ``first_join``, one already popped) and inbox
        batches; returns how many events were appended.

        An inbox is emptied only after every event of its batch is in the stream: a batch
        whose XADD the server refuses stays, is counted (``unstored``) and is tried again.
        """
        client = self._conn()
        appended: list[tuple[str | None, dict[str, str]]] = []
        refused: dict[str, int] = {}
        taken: list[str] = []
        self._take_joins(client, appended, first_join, refused)
        self._take_inboxes(client, appended, refused, taken)
        stored = 0
        if appended:
            pipe = client.pipeline(transaction=False)
            for _, event in appended:
                pipe.xadd(
                    events_key(self.config.class_id),
                    event,
                    id="*",
                    maxlen=STREAM_MAX_EVENTS,
                    approximate=True,
                )
            results = pipe.execute(raise_on_error=False)
            failed = {
                source
                for (source, _), result in zip(appended, results, strict=True)
                if isinstance(result, Exception)
            }
            unstored = sum(isinstance(result, Exception) for result in results)
            stored = len(appended) - unstored
            self.unstored += unstored
            taken = [learner_id for learner_id in taken if learner_id not in failed]
        if taken:
            # Only this learner's user writes the key, and its client never overwrites a
            # batch (NX): deleting what is stored loses nothing of a well-behaved learner.
            client.delete(*(inbox_key(self.config.class_id, item) for item in taken))
        if refused:
            pipe = client.pipeline(transaction=False)
            for learner_id, count in refused.items():
                pipe.hincrby(rejected_key(self.config.class_id), learner_id, count)
            pipe.execute(raise_on_error=False)
        self.rejected += sum(refused.values())
        self._save_state(client)
        with self._passed:
            self._passes += 1
            self._passed.notify_all()
        return stored

    def _save_state(self, client: valkey.Valkey) -> None:
        now = time.monotonic()
        if now - self._alive_at >= 1.0:
            self._alive_at = now
            with contextlib.suppress(valkey.ResponseError):  # a full server: said next time
                client.set(alive_key(self.config.class_id), f"{time.time():.3f}")
                if self.unstored != self._unstored_saved:
                    client.set(unstored_key(self.config.class_id), self.unstored)
                    self._unstored_saved = self.unstored
        if now - self._state_saved < STATE_SECONDS:
            return
        self._state_saved = now
        self.board.refresh(client)
        self._remove_learners(client)
        if self.board.events != self._state_events:
            with contextlib.suppress(valkey.ResponseError):  # a full server: saved next time
                client.set(state_key(self.config.class_id), self.board.dump_state())
                self._state_events = self.board.events

    @property
    def join_credit(self) -> float:
        """Joins the class may take now (class-wide)."""
        return self._joins.refill(time.monotonic())

    def _refuse_join(
        self, client: valkey.Valkey, learner_id: str, reason: str, refused: dict[str, int]
    ) -> None:
        refused[REJECTED_JOINS] = refused.get(REJECTED_JOINS, 0) + 1
        with contextlib.suppress(valkey.ResponseError):
            client.set(refusal_key(self.config.class_id, learner_id), reason, ex=REFUSAL_SECONDS)

    def _take_joins(
        self,
        client: valkey.Valkey,
        appended: list[tuple[str | None, dict[str, str]]],
        first: object,
        refused: dict[str, int],
    ) -> None:
        key = joins_key(self.config.class_id)
        waiting = int(client.llen(key))
        flood = waiting > MAX_WAITING_JOINS
        if flood or (waiting > 1 and _size(client, key) > MAX_JOIN_LIST_BYTES):
            client.delete(key)  # a flood: legitimate learners' `join` asks again
            refused[REJECTED_JOINS] = refused.get(REJECTED_JOINS, 0) + waiting
            return
        requests = [] if first is None else [first]
        if first is not None:
            self._joins.take(1)
        credit = int(self.join_credit)
        if waiting and credit > 0:
            popped = client.lpop(key, min(_JOINS_PER_PASS, credit)) or []
            self._joins.take(len(popped))
            requests.extend(popped)
        for raw in requests:
            request = _join_request(raw)
            if request is None:
                refused[REJECTED_JOINS] = refused.get(REJECTED_JOINS, 0) + 1
                continue
            learner_id, learner = request
            known = self._roll.get(learner_id)
            if learner_id in self.board.removed:
                self._refuse_join(client, learner_id, "removed", refused)
                continue
            if known is not None and known.password_hash != learner.password_hash:
                self._refuse_join(client, learner_id, "taken", refused)  # the user stays
                continue
            if known is None and len(self._roll) >= self.max_learners:
                self._refuse_join(client, learner_id, "full", refused)
                continue
            self._create_user(client, learner_id, learner)
            client.hset(
                learners_key(self.config.class_id),
                learner_id,
                json.dumps({"name": learner.name, "hash": learner.password_hash}),
            )
            appended.append(
                (
                    None,
                    {
                        "v": "2",
                        "id": uuid.uuid4().hex,
                        "kind": "join",
                        "learner_id": learner_id,
                        "learner": learner.name,
                    },
                )
            )

    def _take_inboxes(
        self,
        client: valkey.Valkey,
        appended: list[tuple[str | None, dict[str, str]]],
        refused: dict[str, int],
        taken: list[str],
    ) -> None:
        ids = list(self._roll)
        if not ids:
            return
        pipe = client.pipeline(transaction=False)
        for learner_id in ids:
            pipe.strlen(inbox_key(self.config.class_id, learner_id))
        sizes = pipe.execute()
        now = time.monotonic()
        for learner_id, size in zip(ids, sizes, strict=True):
            if not size:
                continue
            key = inbox_key(self.config.class_id, learner_id)
            if int(size) > MAX_BATCH_BYTES:
                client.delete(key)  # never read: too large to be a batch of events
                refused[learner_id] = refused.get(learner_id, 0) + 1
                continue
            credit = self._credit[learner_id]
            tokens = credit.refill(now)
            waiting = self._waiting.get(learner_id)
            if waiting is not None and waiting[0] == size and waiting[1] > tokens:
                continue  # the same batch, still over the learner's rate: not read again
            raw = client.get(key)
            batch = _batch(raw)
            if batch is not None and len(batch) > tokens:
                # Over its rate: the batch waits (and the learner's next ones in its outbox).
                self._waiting[learner_id] = (int(size), len(batch))
                continue
            self._waiting.pop(learner_id, None)
            taken.append(learner_id)
            if batch is None:
                refused[learner_id] = refused.get(learner_id, 0) + 1
                continue
            name = self._roll[learner_id].name
            for item in batch:
                credit.take(1)
                event = self._accept(item)
                if event is None:
                    refused[learner_id] = refused.get(learner_id, 0) + 1
                    continue
                appended.append(
                    (learner_id, {"v": "2", **event, "learner_id": learner_id, "learner": name})
                )

    def _accept(self, item: object) -> dict[str, str] | None:
        if not isinstance(item, dict):
            return None
        if len(json.dumps(item)) > MAX_EVENT_BYTES:
            return None
        return clean_event(item, self.config.module, self.steps, LEARNER_KINDS, self.check_ids)

    # -- the thread --------------------------------------------------------------------------
    def start(self, interval: float = 0.2) -> None:
        """Drain every ``interval`` seconds in a thread until :meth:`stop`."""

        def loop() -> None:
            first: object = None
            while not self._stop.is_set():
                try:
                    busy = self.drain_once(first) > 0
                    first = None
                    if not busy and self.join_credit < 1:
                        self._stop.wait(interval)  # joins wait in the list for credit
                    elif not busy:
                        # Wait for the next join request (a learner's `join` waits on it),
                        # at most ``interval``: inbox batches are read every interval.
                        popped = self._conn().blpop([joins_key(self.config.class_id)], interval)
                        first = popped[1] if popped else None
                except (valkey.ValkeyError, OSError):
                    self._drop_client()  # the server restarts or is gone: try again later
                    self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="class-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._drop_client()

    def wait_passes(self, count: int = 2, timeout: float = 30.0) -> bool:
        """Wait until the relay thread has made ``count`` more passes (every batch written
        before this call is then taken, rate allowing); False on timeout."""
        with self._passed:
            target = self._passes + count
            return self._passed.wait_for(lambda: self._passes >= target, timeout)

    @property
    def passes(self) -> int:
        return self._passes

    def _conn(self) -> valkey.Valkey:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None


def _size(client: valkey.Valkey, key: str) -> int:
    """About how many bytes ``key`` holds (``MEMORY USAGE``, sampled); 0 when the server
    does not say (a ``--url`` admin without the command)."""
    try:
        return int(client.memory_usage(key, samples=5) or 0)
    except valkey.ResponseError:
        return 0


def _check_ids(module: Module) -> dict[int, frozenset[str]]:
    """Each step's check ids, from the course content (a step whose checks file does not
    load has none, and takes any well-formed id)."""
    from valkey_workshop.classroom.board import check_names  # noqa: PLC0415 - loads checks

    ids: dict[int, set[str]] = {}
    for number, check in check_names(module):
        ids.setdefault(number, set()).add(check)
    return {number: frozenset(found) for number, found in ids.items()}


def _text(value: object) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _join_request(raw: object) -> tuple[str, _Learner] | None:
    text = _text(raw)
    if len(text) > _MAX_JOIN_BYTES:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    learner_id, password_hash, name = data.get("id"), data.get("hash"), data.get("name")
    if not (
        isinstance(learner_id, str)
        and _LEARNER.fullmatch(learner_id)
        and isinstance(password_hash, str)
        and _HASH.fullmatch(password_hash)
    ):
        return None
    shown = clean_text(name, MAX_NAME_CHARS)
    if not shown:
        return None
    return learner_id, _Learner(shown, password_hash)


def _batch(raw: object) -> list[object] | None:
    if raw is None:
        return None
    text = _text(raw)
    if text.count("[") > MAX_BATCH_EVENTS * 70:
        return None  # no parser sees 200,000 brackets
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list) or len(data) > MAX_BATCH_EVENTS:
        return None
    return data
