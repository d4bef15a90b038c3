"""The server guard: learner code and server-wide checks never leave a server harmed or open.

Around every check run and demo, the workshop process (never the worker, which a time limit
may kill) does four things:

1. **Refuse a foreign server.** A step whose checks change server-wide state
   (``changes_server = true`` in ``step.toml``: CONFIG SET, memory limits, eviction) runs only
   on a server whose every database holds nothing but the workshop's own keys. It refuses
   before touching anything and says why. On a server the workshop started itself every key
   is the workshop's: nobody else knows its password.
2. **Snapshot the settings** (``CONFIG GET *`` and the ACL users) before the run, and after it
   set back every setting that differs and can be set, so a killed worker cannot leave
   ``maxmemory`` or ``allkeys-lru`` behind.
3. **Keep the private server private.** After every run the settings that guard a server
   (``bind``, ``port``, ``protected-mode``, ``requirepass``, the ACL users) are compared with
   the snapshot and put back.
4. **Notice a stopped or stuck server.** A Lua or function busy loop is killed (SCRIPT KILL,
   FUNCTION KILL); a server that stopped (SHUTDOWN, a kill) or cannot be brought back is
   restarted when it is ours, and reported as stopped either way.

5. **Put back the rest of what a run changed**: a write pause (``CLIENT PAUSE ... WRITE``:
   PING still answers, so the guard reads ``INFO clients``) is ended; a server made a replica
   (``REPLICAOF``) is made a primary again (or pointed back at its primary), and where the
   guard may not, the run ends saying what to run; function libraries are put back as they
   were (``FUNCTION DUMP`` / ``RESTORE``).
6. **Keep the keyspace as it was** (the key ledger, :class:`KeyLedger`). Before a run every
   database is scanned (completely: a server too big to scan is refused). After it, every key
   the run created is deleted, in every database: on a server that held nothing but the
   workshop's keys, a key of any name; beside other data, keys named like the workshop's.
   On a server we did not start, every key named like the workshop's that existed before the
   run is saved (``DUMP``, with its TTL) and put back afterwards if the run changed or deleted
   it: we cannot know whether it is a leftover or an application's key with the same name,
   so it is never lost. A server holding too many such keys to save is refused.

The workshop's own keys (see :func:`is_workshop_key`): everything under ``workshop:`` (check
scratch keys, demo keys), plus the key patterns the module declares (``owned_keys`` in
``module.toml``). On a server we did not start, an application may use those names too: there
they count as the workshop's only once it has run on that server (:data:`USED_MARKER`, left
the first time the server held nothing but the workshop's keys), and even then the ledger
saves and restores them around every run.

One :class:`ServerGuard` per server (:func:`guard_for`); it is thread-safe, so parallel proofs
can share it. When runs overlap on one server, the first takes the snapshot and the last one
to finish restores it (a run does not undo a neighbour's settings half-way); the guarding
settings are checked after every run.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import valkey
import valkey.exceptions

from valkey_workshop.content.keypatterns import ENGINE_PREFIX, matcher, sample_key
from valkey_workshop.content.models import Step
from valkey_workshop.server.base import ServerInfo, redact_url

T = TypeVar("T")

#: The prefix of every key the workshop's checks and demos create.
OWN_PREFIX = ENGINE_PREFIX
#: The engine's own key pattern; a module adds its ``owned_keys``.
ENGINE_PATTERNS = (f"{ENGINE_PREFIX}*",)
#: Left in database 0 of a server the workshop did not start, once it has run there. Until
#: then, keys named like a module's declared keys are someone else's: an application of the
#: user's may use the very same names.
USED_MARKER = "workshop:has-run-here"

#: Settings that keep a server private; they are checked and put back after every run.
GUARD_SETTINGS = ("bind", "port", "protected-mode", "requirepass")
#: Restored first and in this order: close the door before anything else.
_FIRST = GUARD_SETTINGS

#: Why a ``changes_server`` step needs a server of the workshop's own.
CHANGES_SERVER = "changes server-wide settings (memory limit, eviction, lazy freeing)"
#: Why ``check`` needs one for every step.
RUNS_LEARNER_CODE = (
    "runs your exercise code, which can change or empty any database of the server it is "
    "given (FLUSHALL, CONFIG SET maxmemory)"
)
#: Why ``verify`` needs one for every step.
RUNS_WRONG_ANSWERS = (
    "is proven by running its known-wrong answers, which may change or empty the server "
    "(one runs FLUSHDB)"
)

#: The most keys (all databases together, ``INFO keyspace``) the guard reads to make sure a
#: server we did not start holds only the workshop's keys; a bigger server is refused, not
#: half-read.
SCAN_LIMIT = 1_000_000
#: The most pre-existing keys named like the workshop's that the ledger saves (``DUMP``) on a
#: server we did not start, and the most bytes their payloads may take.
SAVE_LIMIT_KEYS = 10_000
SAVE_LIMIT_BYTES = 64 * 1024 * 1024


def workshop_patterns(owned_keys: Sequence[str] = ()) -> tuple[str, ...]:
    """The key patterns that count as the workshop's: ``workshop:*`` and a module's own."""
    return ENGINE_PATTERNS + tuple(
        pattern for pattern in owned_keys if pattern not in ENGINE_PATTERNS
    )


def keys_text(patterns: Sequence[str]) -> str:
    """``workshop:*, a:* and b``: patterns as a sentence names them."""
    if len(patterns) == 1:
        return patterns[0]
    return ", ".join(patterns[:-1]) + " and " + patterns[-1]


def is_workshop_key(key: str, owned_keys: Sequence[str] = ()) -> bool:
    """Whether ``key`` is one of the workshop's own keys: under ``workshop:`` or matching a
    module's ``owned_keys``."""
    return key.startswith(OWN_PREFIX) or matcher(owned_keys)(key)


def _step_patterns(step: Step | None) -> tuple[str, ...]:
    return workshop_patterns(step.owned_keys if step is not None else ())


#: ACL users a check makes for itself (to log a client in as one) and deletes when it ends;
#: while other runs share the server, the guard leaves them (see ``_restore_acl``).
CHECK_USER_PREFIX = "workshop-check-"


# -- results (data) ---------------------------------------------------------------------
@dataclass(frozen=True)
class ForeignKeys:
    """Keys in one database that are not the workshop's."""

    db: int
    count: int
    total: int
    example: str
    #: Of ``count``, keys named like a module's declared keys on a server the workshop never
    #: ran on.
    lookalike: int = 0
    lookalike_example: str = ""


@dataclass(frozen=True)
class Refusal:
    """A run refused on a server holding others' data, whose keys cannot be read, or where
    the workshop lacks the rights the step needs (``cannot_run``)."""

    step: str
    foreign: tuple[ForeignKeys, ...]
    why: str = CHANGES_SERVER
    unreadable: str | None = None  # the server would not list its keys: the reason
    #: Refused only because keys with the exercises' own names are someone else's.
    named_alike: bool = False
    #: The patterns that count as the workshop's keys for this step (for the message).
    patterns: tuple[str, ...] = ENGINE_PATTERNS
    #: The step cannot run on this server at all: the reason (rights, a read-only server).
    cannot_run: str | None = None

    @property
    def foreign_count(self) -> int:
        return sum(entry.count for entry in self.foreign)

    @property
    def message(self) -> str:
        advice = "Nothing was changed. Run it on the workshop's own server: --backend embedded."
        if self.cannot_run is not None:
            return f"Step {self.step} cannot run here: {self.cannot_run}. {advice}"
        if self.named_alike:
            count = self.foreign_count
            per_db = "; ".join(f"db {entry.db}: {entry.count:,}" for entry in self.foreign)
            declared = keys_text(self.patterns[len(ENGINE_PATTERNS) :] or self.patterns)
            return (
                f"Step {self.step} writes and deletes keys named {declared}, and this server "
                f"holds {count:,} {'key' if count == 1 else 'keys'} with those names "
                f"({per_db}; e.g. {self.foreign[0].example!r}) that the workshop never wrote: "
                f"they are taken for your application's data. {advice}"
            )
        rule = (
            f"Step {self.step} {self.why}, so it runs only on a server that holds nothing but "
            f"the workshop's keys ({keys_text(self.patterns)})."
        )
        if self.unreadable is not None:
            cannot = f"This server does not let the workshop list its keys ({self.unreadable})."
            return f"{rule} {cannot} {advice}"
        count = self.foreign_count
        per_db = "; ".join(f"db {entry.db}: {entry.count:,}" for entry in self.foreign)
        example = self.foreign[0].example if self.foreign else ""
        noun = "key" if count == 1 else "keys"
        lookalike = sum(entry.lookalike for entry in self.foreign)
        named_like = (
            f" {lookalike:,} of them {'is' if lookalike == 1 else 'are'} named like the "
            "workshop's keys, but the workshop has never run on this server, so they are "
            "taken for your application's data."
            if lookalike
            else ""
        )
        return (
            f"{rule} This server holds {count:,} other {noun} ({per_db}; "
            f"e.g. {example!r}).{named_like} {advice}"
        )


@dataclass(frozen=True)
class Snapshot:
    """A server's settings at one moment: every CONFIG parameter, and the ACL rules."""

    config: Mapping[str, str]
    acl: tuple[str, ...] | None  # ACL LIST lines; None when the server refuses ACL LIST


@dataclass(frozen=True)
class SavedKey:
    """A key that existed before a run on a server we did not start, as ``DUMP`` gave it."""

    db: int
    name: bytes
    payload: bytes
    expires_at: float | None  # time.time() when it expires; None: no TTL


@dataclass(frozen=True)
class KeyLedger:
    """Which keys existed before a run (see the module docstring, point 6)."""

    #: Per database: the keys before the run that the ledger compares with afterwards (every
    #: key when ``whole``, else the keys named like the workshop's).
    before: Mapping[int, frozenset[bytes]]
    #: Every key was the workshop's (or the server is ours): any new key is the run's.
    whole: bool
    patterns: tuple[str, ...]
    #: Saved to be put back (a server we did not start).
    saved: tuple[SavedKey, ...] = ()


@dataclass(frozen=True)
class ServerState:
    """What else a run may change, read before it: replication, a pause, function
    libraries, and the keys (None: the server would not say)."""

    primary_of: tuple[str, int] | None  # the primary (host, port) of a replica; None: a primary
    replication_known: bool
    paused: str | None  # INFO clients' paused_actions; None: the server does not say
    functions: frozenset[tuple[str, str]] | None  # (library name, code)
    function_dump: bytes | None
    ledger: KeyLedger | None


@dataclass(frozen=True)
class Aftermath:
    """What the guard found and did after a run."""

    restored: tuple[str, ...] = ()  # settings set back to their value before the run
    secured: tuple[str, ...] = ()  # guarding settings (bind, auth, ...) that had been changed
    script_killed: str | None = None  # "SCRIPT KILL" or "FUNCTION KILL" when one was needed
    stopped: bool = False  # the server stopped (or hung) during the run
    why_stopped: str = ""
    restarted: ServerInfo | None = None  # the server as it runs again, when we restarted it
    problems: tuple[str, ...] = ()  # what could not be put back
    #: What else the guard undid (a write pause, replication, function libraries, keys).
    put_back: tuple[str, ...] = ()

    def messages(self) -> tuple[str, ...]:
        """One line per thing worth telling the learner, in plain words."""
        lines = []
        if self.stopped:
            again = "; restarting" if self.restarted is not None else ""
            lines.append(f"The server stopped{again} ({self.why_stopped}).")
        if self.script_killed:
            lines.append(
                f"A script was still running on the server (a busy loop?); the workshop "
                f"stopped it with {self.script_killed}."
            )
        if self.secured:
            lines.append(
                "The exercise changed settings that keep the server private ("
                + ", ".join(self.secured)
                + "); the workshop put them back."
            )
        others = [name for name in self.restored if name not in self.secured]
        if others:
            more = f" and {len(others) - 6} more" if len(others) > 6 else ""
            shown = ", ".join(others[:6]) + more
            lines.append(f"Settings changed during the run were set back: {shown}.")
        lines.extend(self.put_back)
        lines.extend(self.problems)
        return tuple(lines)


@dataclass(frozen=True)
class GuardedRun(Generic[T]):
    """The value of a guarded action, or why it did not run; and what the guard did after."""

    value: T | None
    refusal: Refusal | None = None
    aftermath: Aftermath = field(default_factory=Aftermath)

    @property
    def ran(self) -> bool:
        return self.refusal is None


class _Unreachable(Exception):  # noqa: N818 - internal signal, reads as a state
    """The server cannot be talked to; the message says how it failed."""


# -- the guard --------------------------------------------------------------------------
class _Shared:
    """What every guard of one server shares (its lanes are other databases of it): the run
    count, and what the first of overlapping runs read before they began."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.running = 0
        self.snapshot: Snapshot | None = None
        self.state: ServerState | None = None
        #: This process found the server holding nothing but the workshop's keys (a server
        #: we did not start): lookalike keys from then on are its own runs' leftovers.
        self.ran_here = False


class _CannotRun(Exception):  # noqa: N818 - internal signal, reads as a state
    """The run must not start here; the message says why."""


class ServerGuard:
    """Guards one server (see the module docstring). Thread-safe."""

    def __init__(
        self,
        server: ServerInfo,
        timeout: float = 3.0,
        busy_wait: float = 8.0,
        *,
        shared: _Shared | None = None,
    ) -> None:
        self._server = server
        self._timeout = timeout
        self._busy_wait = busy_wait
        self._shared = shared or _Shared()
        self._lock = self._shared.lock
        self._client: valkey.Valkey | None = None
        self._db_clients: dict[int, valkey.Valkey] = {}
        self._db_clients_lock = threading.Lock()
        self._rights: dict[tuple[bool, tuple[str, ...]], str | None] = {}

    @property
    def server(self) -> ServerInfo:
        """The server as it runs now (a restart may have replaced it)."""
        return self._server

    @property
    def owned(self) -> bool:
        """Whether the workshop started this server (so every key on it is the workshop's)."""
        return self._server.private

    # -- 1. refuse ------------------------------------------------------------------------
    def refuse_if_foreign(
        self, step: Step, always: bool = False, why: str = RUNS_WRONG_ANSWERS
    ) -> Refusal | None:
        """A refusal when ``step`` changes server-wide state (or ``always``: ``verify`` runs
        known-wrong answers) and this server holds keys that are not the workshop's, in any
        database; or when the workshop lacks the rights the step needs here; None when the
        step may run. Any other step is refused only where keys with the module's declared
        names belong to someone else. Reads only, except that a server found holding nothing
        but the workshop's keys gets :data:`USED_MARKER`, and a rights probe writes (and
        deletes) one key of each of the workshop's patterns."""
        if self.owned:
            return None
        patterns = _step_patterns(step)
        needs_a_clean_server = step.changes_server or always
        why = CHANGES_SERVER if step.changes_server else why
        refusal = self._key_refusal(step, patterns, why, needs_a_clean_server)
        if refusal is not None:
            return refusal
        problem = self.rights_problem(step)
        if problem is not None:
            return Refusal(step.label, (), why, patterns=patterns, cannot_run=problem)
        if needs_a_clean_server:
            self._mark_used()
        return None

    def _key_refusal(
        self, step: Step, patterns: tuple[str, ...], why: str, needs_a_clean_server: bool
    ) -> Refusal | None:
        # A step touching only the workshop's keys, on a server the workshop has run on: the
        # key ledger protects every key it could touch, so no scan.
        if not needs_a_clean_server and self._has_run_here():
            return None
        try:
            found = self.foreign_keys(patterns)
        except _CannotRun as error:
            return Refusal(step.label, (), why, unreadable=str(error), patterns=patterns)
        except valkey.ResponseError as error:  # INFO or SCAN refused (an ACL, a managed server)
            if needs_a_clean_server:
                return Refusal(step.label, (), why, unreadable=_why(error), patterns=patterns)
            return None
        if not needs_a_clean_server:
            return _refuse_named_alike(step, found, patterns)
        foreign = tuple(entry for entry in found if entry.count)
        return Refusal(step.label, foreign, why, patterns=patterns) if foreign else None

    def refuse_steps(
        self, steps: Sequence[Step], why: str = RUNS_WRONG_ANSWERS
    ) -> list[Refusal | None]:
        """:meth:`refuse_if_foreign` with ``always`` for each of ``steps``, reading the
        server's keys once for all of them (a --url server may hold many)."""
        if not steps or self.owned:
            return [None] * len(steps)
        first = self.refuse_if_foreign(steps[0], always=True, why=why)
        if first is not None and first.cannot_run is None:
            return [
                replace(first, step=step.label, why=CHANGES_SERVER if step.changes_server else why)
                for step in steps
            ]
        refusals: list[Refusal | None] = [first]
        for step in steps[1:]:
            problem = self.rights_problem(step)
            patterns = _step_patterns(step)
            refusals.append(
                None
                if problem is None
                else Refusal(step.label, (), why, patterns=patterns, cannot_run=problem)
            )
        return refusals

    def rights_problem(self, step: Step) -> str | None:
        """Why the workshop cannot run ``step`` on this server with the URL's user, or None:
        it must write keys of each of the workshop's patterns (and, for a step that changes
        server-wide state, CONFIG SET). Probed once per kind of step; nothing is left."""
        if self.owned:
            return None
        patterns = _step_patterns(step)
        kind = (step.changes_server, patterns)
        if kind not in self._rights:
            self._rights[kind] = self._probe_rights(patterns, config=step.changes_server)
        return self._rights[kind]

    def _probe_rights(self, patterns: Sequence[str], *, config: bool) -> str | None:
        token = f"workshop-probe-{secrets.token_hex(6)}"
        with self._lock:
            client = self._connection()
            for pattern in patterns:
                key = sample_key(pattern, token)
                if key is None:
                    continue
                try:
                    # NX: a key of that name already there (a literal pattern names one key,
                    # maybe the user's) is neither changed nor deleted; ACL rights are
                    # checked before NX is, so the probe still tells.
                    if client.set(key, token, px=10_000, nx=True):
                        client.delete(key)
                except valkey.ValkeyError as error:
                    if _is_read_only(error):
                        return "the server is read-only (a replica?), and every step writes keys"
                    return (
                        f"the server does not let this user write keys named {pattern} "
                        f"({_why(error)})"
                    )
            if config:
                try:
                    current = client.config_get("maxmemory").get("maxmemory")
                    if current is None:
                        return "the server does not let this user read its settings (CONFIG GET)"
                    client.config_set("maxmemory", current)
                except valkey.ValkeyError as error:
                    return (
                        "the step's checks change server-wide settings, and the server does not "
                        f"let this user change them (CONFIG SET: {_why(error)})"
                    )
        return None

    def foreign_keys(self, patterns: Sequence[str] = ENGINE_PATTERNS) -> tuple[ForeignKeys, ...]:
        """Per database with keys (``INFO keyspace``): how many are not the workshop's (of
        ``patterns``). Reads every key; a server with more than :data:`SCAN_LIMIT` keys is
        not half-read.

        Raises:
            _CannotRun: too many keys to read them all.
        """
        ran_here = self.owned or self._has_run_here()
        found = []
        for db, scan in self._scan_keys(patterns).items():
            found.append(scan.foreign_keys(db, lookalikes_ours=ran_here))
        return tuple(found)

    def _databases(self) -> dict[int, int]:
        """Database number: keys, for each database that holds any (``INFO keyspace``)."""
        with self._lock:
            keyspace = self._connection().info("keyspace")
        databases = {}
        for name, stats in keyspace.items():
            if name.startswith("db") and name[2:].isdigit():
                databases[int(name[2:])] = (
                    int(stats.get("keys", 0)) if isinstance(stats, dict) else 0
                )
        return dict(sorted(databases.items()))

    def _scan_keys(self, patterns: Sequence[str]) -> dict[int, _DbScan]:
        """Every key of every database, sorted into the workshop's and the others.

        Raises:
            _CannotRun: the server holds more than :data:`SCAN_LIMIT` keys.
        """
        databases = self._databases()
        total = sum(databases.values())
        if total > SCAN_LIMIT and not self.owned:
            raise _CannotRun(
                f"it holds {total:,} keys, more than the {SCAN_LIMIT:,} the workshop reads to "
                "make sure that none of them is someone else's"
            )
        ours = matcher(patterns)
        declared = matcher(patterns[len(ENGINE_PATTERNS) :])
        scans = {}
        for db, count in databases.items():
            scan = _DbScan(count)
            client = self._client_for(db)
            for raw in client.scan_iter(count=1000):
                key = raw.decode("utf-8", errors="replace")
                if key.startswith(OWN_PREFIX):
                    scan.ours.add(raw)
                elif declared(key):
                    scan.ours.add(raw)
                    scan.lookalikes.append(key)
                elif not ours(key):
                    scan.foreign += 1
                    scan.example = scan.example or key
            scans[db] = scan
        return scans

    def _client_for(self, db: int) -> valkey.Valkey:
        """A client of database ``db`` (raw bytes: keys need not be UTF-8), kept for the
        next run: a new connection costs more round trips than a scan of a small database."""
        with self._db_clients_lock:
            client = self._db_clients.get(db)
            if client is None:
                # The URL's own path names a database and wins over a ``db`` argument.
                url = urlunsplit(urlsplit(self._server.url)._replace(path=f"/{db}"))
                client = valkey.Valkey.from_url(url, socket_timeout=self._timeout)
                self._db_clients[db] = client
            return client

    def _has_run_here(self) -> bool:
        """Whether the workshop has run on this server (this process, or the marker)."""
        if self._shared.ran_here:
            return True
        client = self._client_for(0)
        try:
            self._shared.ran_here = bool(client.exists(USED_MARKER))
        except valkey.ResponseError:
            return False  # an ACL without database 0: never marked, so never known
        return self._shared.ran_here

    def _mark_used(self) -> None:
        """Leave :data:`USED_MARKER` on a server we did not start, now known to hold nothing
        but the workshop's keys (a server that refuses the write stays unmarked)."""
        if self.owned:
            return
        self._shared.ran_here = True  # in this process, even if the server refuses the marker
        client = self._client_for(0)
        # Refused on a read-only server or by an ACL without db 0: declared keys then stay
        # someone else's.
        with contextlib.suppress(valkey.ValkeyError):
            client.set(USED_MARKER, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), nx=True)

    # -- 2. snapshot and restore ----------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """Every CONFIG parameter and the ACL rules, as they are now."""
        with self._lock:
            client = self._connection()
            try:
                config = {str(k): str(v) for k, v in client.config_get("*").items()}
            except valkey.ResponseError:  # CONFIG refused (a managed server): nothing to restore
                config = {}
            try:
                acl: tuple[str, ...] | None = tuple(str(line) for line in client.acl_list())
            except valkey.ResponseError:  # a managed server may refuse ACL LIST
                acl = None
        return Snapshot(config, acl)

    def restore(
        self, snapshot: Snapshot, guard_only: bool = False, *, others_running: bool = False
    ) -> Aftermath:
        """Set back what differs from ``snapshot``: the guarding settings and ACL users
        always, every other settable parameter unless ``guard_only``; a check's own ACL
        users (:data:`CHECK_USER_PREFIX`) are left while ``others_running``."""
        with self._lock:
            client = self._connection()
            now = (
                {str(k): str(v) for k, v in client.config_get("*").items()}
                if snapshot.config
                else {}
            )
            changed = [
                name for name, value in snapshot.config.items() if now.get(name, value) != value
            ]
            changed.sort(key=lambda name: _FIRST.index(name) if name in _FIRST else len(_FIRST))
            restored, secured, problems = [], [], []
            for name in changed:
                if guard_only and name not in GUARD_SETTINGS:
                    continue
                try:
                    client.config_set(name, snapshot.config[name])
                except valkey.ResponseError as error:
                    if name in GUARD_SETTINGS:
                        problems.append(f"Could not set {name} back: {error}")
                    continue  # immutable or protected: the run cannot have changed it either
                restored.append(name)
                if name in GUARD_SETTINGS:
                    secured.append(name)
            if snapshot.acl is not None and self._restore_acl(
                client, snapshot.acl, keep_check_users=others_running
            ):
                secured.append("ACL users")
        return Aftermath(restored=tuple(restored), secured=tuple(secured), problems=tuple(problems))

    def _restore_acl(
        self, client: valkey.Valkey, before: tuple[str, ...], *, keep_check_users: bool = False
    ) -> bool:
        """Put the ACL users back as ``before`` lists them. Users added during the run are
        removed on our own server only: on someone else's, an administrator may have added
        one meanwhile, and deleting it is not ours to do."""
        try:
            now = tuple(str(line) for line in client.acl_list())
        except valkey.ResponseError:
            return False
        if now == before:
            return False
        earlier = {_acl_tokens(line)[1]: line for line in before}
        for line in now:
            user = _acl_tokens(line)[1]
            if keep_check_users and user.startswith(CHECK_USER_PREFIX):
                # A check's own throwaway user, which that check deletes: while other lanes
                # run on this server it may be one of theirs, and deleting it closes that
                # check's connections ("Connection closed by server"). The last run to end
                # deletes whatever is left, learner code's look-alikes included.
                continue
            if user not in earlier and self.owned:
                client.acl_deluser(user)
        for user, line in earlier.items():
            if line not in now:
                client.execute_command("ACL", "SETUSER", user, "reset", *_acl_tokens(line)[2:])
        return True

    # -- 4. a stopped or stuck server -----------------------------------------------------
    def _recover(self, restart: bool = True) -> Aftermath:
        """Make sure the server answers; kill a busy script; restart our server when it
        stopped or cannot be brought back (and ``restart``)."""
        try:
            killed = self._answer_or_kill_script()
        except _Unreachable as error:
            return self._stopped(str(error), restart)
        return Aftermath(script_killed=killed)

    def _answer_or_kill_script(self) -> str | None:
        # A script still running past the busy threshold makes every command fail with BUSY;
        # before that threshold the server reads nothing, so PING waits (the guard's socket
        # timeout is longer than the default threshold of 5 s).
        killed: str | None = None
        failure: BaseException | None = None
        for _ in range(4):
            try:
                self._connection().ping()
                return killed
            except valkey.BusyLoadingError as error:
                raise _Unreachable(f"the server is loading: {error}") from error
            except valkey.ResponseError as error:
                if not str(error).startswith("BUSY"):
                    raise _Unreachable(f"PING failed: {_why(error)}") from error
                killed = self._kill_script()
                time.sleep(0.01)
            except valkey.TimeoutError as error:
                self._drop_connection()
                raise _Unreachable(
                    f"the server did not answer within {self._busy_wait:g} s: paused "
                    "(CLIENT PAUSE) or stuck in a command"
                ) from error
            except (valkey.ConnectionError, OSError) as error:
                # The held connection may have been killed (CLIENT KILL): try a fresh one once.
                self._drop_connection()
                if failure is not None:
                    raise _Unreachable(_why(error)) from error
                failure = error
        raise _Unreachable("a script keeps the server busy")

    def _kill_script(self) -> str:
        client = self._connection()
        for command in ("SCRIPT KILL", "FUNCTION KILL"):
            try:
                client.execute_command(*command.split())
                return command
            except valkey.ResponseError as error:
                if "UNKILLABLE" in str(error):
                    raise _Unreachable(
                        "a script that already wrote data kept the server busy; only a restart "
                        "stops it"
                    ) from error
        raise _Unreachable("the server stayed busy; neither SCRIPT KILL nor FUNCTION KILL helped")

    def _stopped(self, why: str, restart_ok: bool = True) -> Aftermath:
        self._drop_connection()
        restart = self._server.restart
        if restart is None or not restart_ok:
            return Aftermath(stopped=True, why_stopped=why)
        try:
            self._server = restart()
        except Exception as error:  # noqa: BLE001 - reported, the caller decides what next
            return Aftermath(
                stopped=True,
                why_stopped=why,
                problems=(f"Restarting the server failed: {error}",),
            )
        return Aftermath(stopped=True, why_stopped=why, restarted=self._server)

    # -- 5. replication, a pause, function libraries; 6. the keys ------------------------
    def read_state(self, patterns: Sequence[str] = ENGINE_PATTERNS) -> ServerState:
        """What a run may change besides the settings, as it is now (see :class:`ServerState`).

        Raises:
            _CannotRun: too many keys to read, or to save, on a server we did not start.
        """
        with self._lock:
            client = self._connection()
            info = clients = client.info("replication", "clients")
            role = str(info.get("role", "master"))
            primary = (
                (str(info.get("master_host", "")), int(info.get("master_port", 0)))
                if role in ("slave", "replica")
                else None
            )
            paused = clients.get("paused_actions")
            functions, dump = self._functions(client)
        return ServerState(
            primary_of=primary,
            replication_known=bool(info),
            paused=None if paused is None else str(paused),
            functions=functions,
            function_dump=dump,
            ledger=self._ledger(tuple(patterns)),
        )

    def _functions(
        self, client: valkey.Valkey
    ) -> tuple[frozenset[tuple[str, str]] | None, bytes | None]:
        """The function libraries (name, code) and their ``FUNCTION DUMP``; (None, None) where
        the server has no functions or refuses them to this user."""
        try:
            libraries = _libraries(client.execute_command("FUNCTION", "LIST", "WITHCODE"))
            # No library, nothing to dump (the common case: one round trip saved per run).
            dump = (
                client.execute_command("FUNCTION", "DUMP", NEVER_DECODE=True) if libraries else None
            )
        except valkey.ResponseError:
            return None, None
        return libraries, dump if isinstance(dump, bytes) else None

    def _ledger(self, patterns: tuple[str, ...]) -> KeyLedger:
        scans = self._scan_keys(patterns)
        whole = self.owned or all(scan.foreign == 0 for scan in scans.values())
        if whole:
            before = {db: frozenset(scan.ours | scan.others) for db, scan in scans.items()}
        else:
            before = {db: frozenset(scan.ours) for db, scan in scans.items()}
        saved: tuple[SavedKey, ...] = ()
        if not self.owned:
            saved = self._save_keys({db: scan.ours for db, scan in scans.items()})
        return KeyLedger(before, whole, patterns, saved)

    def _save_keys(self, keys: Mapping[int, set[bytes]]) -> tuple[SavedKey, ...]:
        """``DUMP`` and TTL of each of ``keys`` (the workshop's by name, on a server we did not
        start), so that they can be put back after the run."""
        count = sum(len(names) for names in keys.values())
        if count > SAVE_LIMIT_KEYS:
            raise _CannotRun(
                f"it holds {count:,} keys named like the workshop's; the workshop saves such "
                f"keys before a run and puts them back after it, and does that for at most "
                f"{SAVE_LIMIT_KEYS:,}. Delete those you do not need"
            )
        saved: list[SavedKey] = []
        size = 0
        for db, names in keys.items():
            if not names:
                continue
            ordered = sorted(names)
            client = self._client_for(db)
            pipe = client.pipeline(transaction=False)
            for name in ordered:
                pipe.dump(name)
                pipe.pttl(name)
            replies = pipe.execute()
            now = time.time()
            for index, name in enumerate(ordered):
                payload, ttl = replies[2 * index], replies[2 * index + 1]
                if payload is None:
                    continue  # gone meanwhile (it expired)
                size += len(payload)
                expires = now + ttl / 1000 if isinstance(ttl, int) and ttl > 0 else None
                saved.append(SavedKey(db, name, payload, expires))
            if size > SAVE_LIMIT_BYTES:
                raise _CannotRun(
                    f"its keys named like the workshop's take more than "
                    f"{SAVE_LIMIT_BYTES // (1024 * 1024)} MB; the workshop saves such keys "
                    "before a run to put them back after it. Delete those you do not need"
                )
        return tuple(saved)

    def _put_back_urgent(self, before: ServerState) -> Aftermath:
        """Undo a pause and replication changes: after every run, since they stop every
        other run too."""
        with self._lock:
            client = self._connection()
            lines = self._unpause(client, before)
            replication = self._put_back_replication(client, before)
        if replication is None:
            return Aftermath(put_back=tuple(lines))
        return replace(replication, put_back=(*lines, *replication.put_back))

    def _put_back_rest(self, before: ServerState) -> tuple[str, ...]:
        """After the last of overlapping runs: function libraries and keys."""
        with self._lock:
            lines = self._put_back_functions(self._connection(), before)
            if before.ledger is not None:
                lines.extend(self._put_back_keys(before.ledger))
        return tuple(lines)

    def _unpause(self, client: valkey.Valkey, before: ServerState) -> list[str]:
        if before.paused is None:
            # The server does not say whether it is paused (Redis 7.0): end any pause, which
            # costs one round trip and cannot harm a server nobody paused.
            with contextlib.suppress(valkey.ResponseError):
                client.execute_command("CLIENT", "UNPAUSE")
            return []
        now = str(client.info("clients").get("paused_actions", "none"))  # PING passes a pause
        if now in ("none", before.paused):
            return []
        client.execute_command("CLIENT", "UNPAUSE")
        return [
            f"The exercise paused the server's clients (CLIENT PAUSE, {now} commands); the "
            "workshop ended the pause (CLIENT UNPAUSE)."
        ]

    def _put_back_replication(self, client: valkey.Valkey, before: ServerState) -> Aftermath | None:
        if not before.replication_known:
            return None
        info = client.info("replication")
        role = str(info.get("role", "master"))
        now = (
            (str(info.get("master_host", "")), int(info.get("master_port", 0)))
            if role in ("slave", "replica")
            else None
        )
        if now == before.primary_of:
            return None
        target = "NO ONE" if before.primary_of is None else "{} {}".format(*before.primary_of)
        changed = (
            f"a replica of {now[0]}:{now[1]}" if now is not None else "a primary (REPLICAOF NO ONE)"
        )
        try:
            client.execute_command("REPLICAOF", *target.split())
        except valkey.ValkeyError as error:
            url = redact_url(self._server.url)
            return Aftermath(
                stopped=True,
                why_stopped=(
                    f"the exercise made it {changed}, and the workshop could not undo that "
                    f"({_why(error)}); run `valkey-cli -u {url} REPLICAOF {target}`"
                ),
            )
        again = "a primary again" if before.primary_of is None else "a replica of its primary again"
        return Aftermath(
            put_back=(
                f"The exercise made the server {changed} (REPLICAOF); the workshop made it "
                f"{again} (REPLICAOF {target}).",
            )
        )

    def _put_back_functions(self, client: valkey.Valkey, before: ServerState) -> list[str]:
        if before.functions is None:
            return []
        try:
            now = _libraries(client.execute_command("FUNCTION", "LIST", "WITHCODE"))
        except valkey.ResponseError:
            return []
        if now == before.functions:
            return []
        try:
            if before.functions and before.function_dump is not None:
                client.execute_command("FUNCTION", "RESTORE", before.function_dump, "FLUSH")
            else:
                client.execute_command("FUNCTION", "FLUSH")
        except valkey.ResponseError as error:
            return [
                f"Function libraries changed during the run could not be put back: {_why(error)}"
            ]
        added = sorted({name for name, _ in now} - {name for name, _ in before.functions})
        gone = sorted({name for name, _ in before.functions} - {name for name, _ in now})
        what = (
            "; ".join(
                part
                for part in (
                    f"loaded {', '.join(added)}" if added else "",
                    f"removed {', '.join(gone)}" if gone else "",
                )
                if part
            )
            or "changed a library"
        )
        return [
            f"The exercise changed the server's function libraries ({what}); the workshop put "
            "them back."
        ]

    def _put_back_keys(self, ledger: KeyLedger) -> list[str]:
        """Delete the keys the run created; put back the saved ones it changed or deleted."""
        ours = matcher(ledger.patterns)
        databases = set(self._databases()) | set(ledger.before)
        for db in sorted(databases):
            before = ledger.before.get(db, frozenset())
            client = self._client_for(db)
            created = [
                raw
                for raw in client.scan_iter(count=1000)
                if raw not in before
                and (ledger.whole or ours(raw.decode("utf-8", errors="replace")))
            ]
            for start in range(0, len(created), 1000):
                client.unlink(*created[start : start + 1000])
        return self._restore_saved(ledger.saved)

    def _restore_saved(self, saved: Sequence[SavedKey]) -> list[str]:
        restored: list[str] = []
        by_db: dict[int, list[SavedKey]] = {}
        for key in saved:
            by_db.setdefault(key.db, []).append(key)
        for db, keys in by_db.items():
            client = self._client_for(db)
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.dump(key.name)
            now_payloads = pipe.execute()
            pipe = client.pipeline(transaction=False)
            now = time.time()
            for key, payload in zip(keys, now_payloads, strict=True):
                if payload == key.payload:
                    continue
                ttl_ms = 0 if key.expires_at is None else int((key.expires_at - now) * 1000)
                if key.expires_at is not None and ttl_ms <= 0:
                    pipe.delete(key.name)  # it would have expired by now anyway
                    continue
                pipe.restore(key.name, ttl_ms, key.payload, replace=True)
                restored.append(key.name.decode("utf-8", errors="replace"))
            pipe.execute()
        if not restored:
            return []
        noun = "key that was" if len(restored) == 1 else "keys that were"
        return [
            f"The run changed or deleted {len(restored):,} {noun} on the server before it "
            f"(e.g. {restored[0]!r}); the workshop put them back as they were."
        ]

    # -- around a run ---------------------------------------------------------------------
    def run(
        self, step: Step | None, action: Callable[[], T], restart: bool = True
    ) -> GuardedRun[T]:
        """Run ``action`` (a check run or a demo) under the guard.

        Refuses a ``changes_server`` step on a foreign server (``action`` is not called);
        otherwise snapshots the settings and the rest of the server's state (replication, a
        pause, function libraries, the keys), runs ``action``, then recovers a stopped or
        busy server and puts everything back, even when ``action`` raises (the exception
        then propagates after the clean-up). A server of ours that stopped is started again
        unless ``restart`` is False (a command that ends anyway).
        """
        patterns = _step_patterns(step)
        try:
            refusal = self.refuse_if_foreign(step) if step is not None else None
            if refusal is not None:
                return GuardedRun(None, refusal)
            snapshot, state = self._enter(patterns)
        except (_CannotRun, valkey.exceptions.NoPermissionError) as error:
            reason = (
                str(error)
                if isinstance(error, _CannotRun)
                else "the server does not let this user run a command the workshop guards "
                f"the server with ({_why(error)})"
            )
            label = step.label if step is not None else "this"
            return GuardedRun(None, Refusal(label, (), patterns=patterns, cannot_run=reason))
        except (valkey.ValkeyError, OSError) as error:
            # Not answering before the run even began: nothing ran, nothing to put back.
            return GuardedRun(None, None, self._stopped(_why(error), restart))
        value: T | None = None
        try:
            value = action()
        finally:
            aftermath = self._leave(snapshot, state, restart)
        return GuardedRun(value, None, aftermath)

    def _enter(self, patterns: Sequence[str]) -> tuple[Snapshot, ServerState]:
        shared = self._shared
        with self._lock:
            if shared.running == 0 or shared.snapshot is None or shared.state is None:
                shared.snapshot = self.snapshot()
                shared.state = self.read_state(patterns)
            shared.running += 1
            return shared.snapshot, shared.state

    def _leave(self, snapshot: Snapshot, state: ServerState, restart: bool = True) -> Aftermath:
        shared = self._shared
        with self._lock:
            shared.running -= 1
            last = shared.running == 0
            recovered = self._recover(restart)
            if recovered.stopped:
                # A restarted server starts from its own configuration: nothing to restore.
                shared.snapshot = shared.state = None
                return recovered
            if last:
                shared.snapshot = shared.state = None
            try:
                put_back = self._put_back_urgent(state)
                if put_back.stopped:
                    return replace(put_back, script_killed=recovered.script_killed)
                restored = self.restore(snapshot, guard_only=not last, others_running=not last)
                if last:
                    rest = self._put_back_rest(state)
                    put_back = replace(put_back, put_back=put_back.put_back + rest)
            except (valkey.ValkeyError, OSError) as error:
                # The guard lost its rights or its connection: only a restart is sure.
                stopped = self._stopped(
                    f"its settings could not be put back: {_why(error)}", restart
                )
                return replace(stopped, script_killed=recovered.script_killed)
            if restored.problems and self.owned:
                # A guarding setting refused to go back: our server must not stay open.
                stopped = self._stopped(" ".join(restored.problems), restart)
                return replace(stopped, secured=restored.secured)
            return replace(
                restored, script_killed=recovered.script_killed, put_back=put_back.put_back
            )

    # -- the connection -------------------------------------------------------------------
    def _connection(self) -> valkey.Valkey:
        """One connection held across runs: it stays authenticated even when learner code
        changes the password or the port, so the guard can still put them back."""
        if self._client is None:
            self._client = valkey.Valkey.from_url(
                self._server.url,
                socket_timeout=self._busy_wait,
                socket_connect_timeout=self._timeout,
                decode_responses=True,
                client_name="workshop-guard",
                max_connections=1,
            )
        return self._client

    def _drop_connection(self) -> None:
        with self._db_clients_lock:
            for db_client in self._db_clients.values():
                with contextlib.suppress(Exception):  # a broken connection is dropped anyway
                    db_client.close()
            self._db_clients.clear()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # a broken connection is dropped anyway
                client.close()

    def close(self) -> None:
        with self._lock:
            self._drop_connection()


def _acl_tokens(line: str) -> list[str]:
    """An ``ACL LIST`` line as ACL SETUSER arguments: words, with a selector's parenthesised
    rules kept as one argument (``user app on #... ~* (~cache:* +get)``)."""
    tokens: list[str] = []
    depth = 0
    for word in line.split():
        if depth > 0:
            tokens[-1] += " " + word
        else:
            tokens.append(word)
        depth += word.count("(") - word.count(")")
    return tokens


def _why(error: BaseException) -> str:
    """How the server failed us, in a few plain words (no driver jargon, no traceback)."""
    text = str(error).strip() or type(error).__name__
    if isinstance(error, valkey.AuthenticationError) or "NOAUTH" in text or "WRONGPASS" in text:
        return "it no longer accepts the workshop's password"
    if isinstance(error, valkey.ConnectionError):
        if "refused" in text.lower():
            return "it no longer accepts connections: shut down, or moved to another port"
        if "closed" in text.lower() or "reset" in text.lower():
            return "it closed the connection"
    first = text.splitlines()[0]
    return first if len(first) <= 160 else first[:157] + "..."


def _refuse_named_alike(
    step: Step, found: Sequence[ForeignKeys], patterns: tuple[str, ...]
) -> Refusal | None:
    """Other data is safe from a step that touches only the workshop's keys, unless some of it
    has the very names the module declares (an application's own keys of those names)."""
    named_alike = tuple(
        replace(entry, count=entry.lookalike, example=entry.lookalike_example)
        for entry in found
        if entry.lookalike
    )
    if not named_alike:
        return None
    return Refusal(step.label, named_alike, named_alike=True, patterns=patterns)


class _DbScan:
    """One database's keys as a scan sorted them."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.ours: set[bytes] = set()  # named like the workshop's (lookalikes included)
        self.others: set[bytes] = set()  # every other key
        self.lookalikes: list[str] = []  # of ``ours``: named like a module's declared keys
        self.foreign = 0
        self.example = ""

    def foreign_keys(self, db: int, *, lookalikes_ours: bool) -> ForeignKeys:
        lookalike = 0 if lookalikes_ours else len(self.lookalikes)
        named_like = self.lookalikes[0] if lookalike else ""
        return ForeignKeys(
            db,
            self.foreign + lookalike,
            self.total,
            self.example or named_like,
            lookalike,
            named_like,
        )


def _libraries(listing: object) -> frozenset[tuple[str, str]]:
    """``FUNCTION LIST WITHCODE`` as (library name, code) pairs."""
    found = set()
    for entry in listing if isinstance(listing, list) else ():
        if not isinstance(entry, list):
            continue
        fields = {_text(key): value for key, value in zip(entry[::2], entry[1::2], strict=False)}
        found.add((_text(fields.get("library_name", "")), _text(fields.get("library_code", ""))))
    return frozenset(found)


def _text(value: object) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _is_read_only(error: BaseException) -> bool:
    return isinstance(error, valkey.ReadOnlyError) or str(error).startswith("READONLY")


# -- one guard per server ---------------------------------------------------------------
#: Keyed by URL and ownership: the same server reached with ``--url`` is not ours, even in a
#: process that started it (a test session does).
_GUARDS: dict[tuple[str, bool], ServerGuard] = {}
#: What the guards of one server share, keyed by its address (the URL without its database)
#: and ownership: parallel lanes on other databases of one server are runs on one server.
_SHARED: dict[tuple[str, bool], _Shared] = {}
_GUARDS_LOCK = threading.Lock()


def _address(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="", query=""))


def guard_for(server: ServerInfo) -> ServerGuard:
    """The guard of ``server`` (one per server URL and ownership, shared by every caller)."""
    with _GUARDS_LOCK:
        guard = _GUARDS.get((server.url, server.private))
        if guard is None:
            shared = _SHARED.setdefault((_address(server.url), server.private), _Shared())
            guard = _GUARDS[server.url, server.private] = ServerGuard(server, shared=shared)
        return guard


def forget_guard(server: ServerInfo) -> None:
    """Drop the guards of a server that is going away (its lanes' too; closes their
    connections)."""
    address = _address(server.url)
    with _GUARDS_LOCK:
        gone = [key for key in _GUARDS if _address(key[0]) == address and key[1] == server.private]
        guards = [_GUARDS.pop(key) for key in gone]
        _SHARED.pop((address, server.private), None)
    for guard in guards:
        guard.close()
