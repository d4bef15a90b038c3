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

The workshop's own keys (see :func:`is_workshop_key`): everything under ``workshop:`` (check
scratch keys, demo keys), plus the two names the exercise API fixes, ``product:{id}:details``
and the stream ``product:write-queue``. On a server we did not start, an application may use
those two names too: there they count as the workshop's only once it has run on that server
(:data:`USED_MARKER`, left the first time the server held nothing but the workshop's keys).

One :class:`ServerGuard` per server (:func:`guard_for`); it is thread-safe, so parallel proofs
can share it. When runs overlap on one server, the first takes the snapshot and the last one
to finish restores it (a run does not undo a neighbour's settings half-way); the guarding
settings are checked after every run.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import valkey

from valkey_workshop.content.models import Step
from valkey_workshop.server.base import ServerInfo

T = TypeVar("T")

#: The prefix of every key the workshop's checks and demos create.
OWN_PREFIX = "workshop:"
#: Key names the exercise API fixes (the learner's cache keys and the write-back stream).
_EXERCISE_KEY = re.compile(r"product:[^:]+:details|product:write-queue")
#: Where the rule is written for people (messages, README).
OWN_KEYS_TEXT = "workshop:*, product:{id}:details and product:write-queue"
#: Left in database 0 of a server the workshop did not start, once it has run there. Until
#: then, keys named like the exercise API's (``product:{id}:details``) are someone else's: an
#: application of the user's may use the very same names.
USED_MARKER = "workshop:has-run-here"

#: Settings that keep a server private; they are checked and put back after every run.
GUARD_SETTINGS = ("bind", "port", "protected-mode", "requirepass")
#: Restored first and in this order: close the door before anything else.
_FIRST = GUARD_SETTINGS

#: Why a ``changes_server`` step needs a server of the workshop's own.
CHANGES_SERVER = "changes server-wide settings (memory limit, eviction, lazy freeing)"
#: Why a step that touches only the workshop's keys is refused where others use their names.
USES_EXERCISE_KEYS = "writes and deletes the keys product:{id}:details and product:write-queue"
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

#: How many keys per database the foreign-key scan looks at before it says "at least".
SCAN_LIMIT = 100_000


def is_workshop_key(key: str) -> bool:
    """Whether ``key`` is one of the workshop's own keys (see the module docstring)."""
    return key.startswith(OWN_PREFIX) or _EXERCISE_KEY.fullmatch(key) is not None


# -- results (data) ---------------------------------------------------------------------
@dataclass(frozen=True)
class ForeignKeys:
    """Keys in one database that are not the workshop's."""

    db: int
    count: int
    total: int
    example: str
    capped: bool = False  # the scan stopped at SCAN_LIMIT: ``count`` is a lower bound
    #: Of ``count``, keys named like the exercise API's on a server the workshop never ran on.
    lookalike: int = 0
    lookalike_example: str = ""


@dataclass(frozen=True)
class Refusal:
    """A run refused on a server holding others' data (or whose keys cannot be read)."""

    step: str
    foreign: tuple[ForeignKeys, ...]
    why: str = CHANGES_SERVER
    unreadable: str | None = None  # the server would not list its keys: the reason
    #: Refused only because keys with the exercises' own names are someone else's.
    named_alike: bool = False

    @property
    def foreign_count(self) -> int:
        return sum(entry.count for entry in self.foreign)

    @property
    def message(self) -> str:
        if self.named_alike:
            count = self.foreign_count
            per_db = "; ".join(f"db {entry.db}: {entry.count:,}" for entry in self.foreign)
            return (
                f"Step {self.step} {self.why}, and this server holds {count:,} "
                f"{'key' if count == 1 else 'keys'} with those names ({per_db}; e.g. "
                f"{self.foreign[0].example!r}) that the workshop never wrote: they are taken "
                "for your application's data. Nothing was changed. Run it on the workshop's own "
                "server: --backend embedded."
            )
        rule = (
            f"Step {self.step} {self.why}, so it runs only on a server that holds nothing but "
            f"the workshop's keys ({OWN_KEYS_TEXT})."
        )
        advice = "Nothing was changed. Run it on the workshop's own server: --backend embedded."
        if self.unreadable is not None:
            cannot = f"This server does not let the workshop list its keys ({self.unreadable})."
            return f"{rule} {cannot} {advice}"
        at_least = "at least " if any(entry.capped for entry in self.foreign) else ""
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
            f"{rule} This server holds {at_least}{count:,} other {noun} ({per_db}; "
            f"e.g. {example!r}).{named_like} {advice}"
        )


@dataclass(frozen=True)
class Snapshot:
    """A server's settings at one moment: every CONFIG parameter, and the ACL rules."""

    config: Mapping[str, str]
    acl: tuple[str, ...] | None  # ACL LIST lines; None when the server refuses ACL LIST


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
class ServerGuard:
    """Guards one server (see the module docstring). Thread-safe."""

    def __init__(self, server: ServerInfo, timeout: float = 3.0, busy_wait: float = 8.0) -> None:
        self._server = server
        self._timeout = timeout
        self._busy_wait = busy_wait
        self._lock = threading.RLock()
        self._client: valkey.Valkey | None = None
        self._running = 0
        self._snapshot: Snapshot | None = None
        #: This process found the server holding nothing but the workshop's keys (a server
        #: we did not start): lookalike keys from then on are its own runs' leftovers.
        self._ran_here = False

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
        database; None when the step may run. Any other step is refused only where keys with
        the exercises' own names belong to someone else. Reads only, except that a server
        found holding nothing but the workshop's keys gets :data:`USED_MARKER`."""
        needs_a_clean_server = step.changes_server or always
        # On our own server, or (for a step touching only the workshop's keys) one the
        # workshop has run on, nothing needs protecting from the run: no scan.
        if self.owned or (not needs_a_clean_server and self._has_run_here()):
            return None
        why = CHANGES_SERVER if step.changes_server else why
        try:
            found = self.foreign_keys()
        except valkey.ResponseError as error:  # INFO or SCAN refused (an ACL, a managed server)
            if not needs_a_clean_server:
                return None  # it touches only the workshop's keys: nothing to protect from it
            return Refusal(step.label, (), why, unreadable=_why(error))
        if not needs_a_clean_server:
            return _refuse_named_alike(step, found)
        foreign = tuple(entry for entry in found if entry.count)
        if foreign:
            return Refusal(step.label, foreign, why)
        self._mark_used()
        return None

    def refuse_steps(
        self, steps: Sequence[Step], why: str = RUNS_WRONG_ANSWERS
    ) -> list[Refusal | None]:
        """:meth:`refuse_if_foreign` with ``always`` for each of ``steps``, reading the
        server's keys once for all of them (a --url server may hold many)."""
        if not steps or self.owned:
            return [None] * len(steps)
        first = self.refuse_if_foreign(steps[0], always=True, why=why)
        if first is None:
            return [None] * len(steps)
        return [
            replace(first, step=step.label, why=CHANGES_SERVER if step.changes_server else why)
            for step in steps
        ]

    def foreign_keys(self) -> tuple[ForeignKeys, ...]:
        """Per database with keys (``INFO keyspace``): how many are not the workshop's."""
        with self._lock:
            keyspace = self._connection().info("keyspace")
        found = []
        ran_here = self.owned or self._has_run_here()
        for name, stats in sorted(keyspace.items()):
            if not (name.startswith("db") and name[2:].isdigit()):
                continue
            db = int(name[2:])
            total = int(stats.get("keys", 0)) if isinstance(stats, dict) else 0
            found.append(self._scan_db(db, total, lookalikes_ours=ran_here))
        return tuple(found)

    def _client_for(self, db: int) -> valkey.Valkey:
        # The URL's own path names a database and wins over a ``db`` argument: replace it.
        url = urlunsplit(urlsplit(self._server.url)._replace(path=f"/{db}"))
        return valkey.Valkey.from_url(url, socket_timeout=self._timeout)

    def _has_run_here(self) -> bool:
        """Whether the workshop has run on this server (this process, or the marker)."""
        if self._ran_here:
            return True
        client = self._client_for(0)
        try:
            self._ran_here = bool(client.exists(USED_MARKER))
        except valkey.ResponseError:
            return False  # an ACL without database 0: never marked, so never known
        finally:
            client.close()
        return self._ran_here

    def _mark_used(self) -> None:
        """Leave :data:`USED_MARKER` on a server we did not start, now known to hold nothing
        but the workshop's keys (a server that refuses the write stays unmarked)."""
        if self.owned:
            return
        self._ran_here = True  # in this process, even if the server refuses the marker
        client = self._client_for(0)
        try:
            client.set(USED_MARKER, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), nx=True)
        except valkey.ValkeyError:
            pass  # read-only, or an ACL without db 0: product:* keys stay someone else's
        finally:
            client.close()

    def _scan_db(self, db: int, total: int, *, lookalikes_ours: bool) -> ForeignKeys:
        client = self._client_for(db)
        count, seen, example, capped, lookalike, lookalike_example = 0, 0, "", False, 0, ""
        try:
            for raw in client.scan_iter(count=1000):
                seen += 1
                key = raw.decode("utf-8", errors="replace")
                if key.startswith(OWN_PREFIX):
                    pass
                elif _EXERCISE_KEY.fullmatch(key) is None:
                    count += 1
                    example = example or key
                elif not lookalikes_ours:
                    count += 1
                    lookalike += 1
                    example = example or key
                    lookalike_example = lookalike_example or key
                if seen >= SCAN_LIMIT:
                    capped = seen < total
                    break
        finally:
            client.close()
        return ForeignKeys(db, count, total, example, capped, lookalike, lookalike_example)

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

    def restore(self, snapshot: Snapshot, guard_only: bool = False) -> Aftermath:
        """Set back what differs from ``snapshot``: the guarding settings and ACL users
        always, every other settable parameter unless ``guard_only``."""
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
            if snapshot.acl is not None and self._restore_acl(client, snapshot.acl):
                secured.append("ACL users")
        return Aftermath(restored=tuple(restored), secured=tuple(secured), problems=tuple(problems))

    def _restore_acl(self, client: valkey.Valkey, before: tuple[str, ...]) -> bool:
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

    # -- around a run ---------------------------------------------------------------------
    def run(
        self, step: Step | None, action: Callable[[], T], restart: bool = True
    ) -> GuardedRun[T]:
        """Run ``action`` (a check run or a demo) under the guard.

        Refuses a ``changes_server`` step on a foreign server (``action`` is not called);
        otherwise snapshots the settings, runs ``action``, then recovers a stopped or busy
        server and restores the settings, even when ``action`` raises (the exception then
        propagates after the clean-up). A server of ours that stopped is started again unless
        ``restart`` is False (a command that ends anyway).
        """
        try:
            refusal = self.refuse_if_foreign(step) if step is not None else None
            if refusal is not None:
                return GuardedRun(None, refusal)
            snapshot = self._enter()
        except (valkey.ValkeyError, OSError) as error:
            # Not answering before the run even began: nothing ran, nothing to put back.
            return GuardedRun(None, None, self._stopped(_why(error), restart))
        value: T | None = None
        try:
            value = action()
        finally:
            aftermath = self._leave(snapshot, restart)
        return GuardedRun(value, None, aftermath)

    def _enter(self) -> Snapshot:
        with self._lock:
            if self._running == 0 or self._snapshot is None:
                self._snapshot = self.snapshot()
            self._running += 1
            return self._snapshot

    def _leave(self, snapshot: Snapshot, restart: bool = True) -> Aftermath:
        with self._lock:
            self._running -= 1
            last = self._running == 0
            recovered = self._recover(restart)
            if recovered.stopped:
                # A restarted server starts from its own configuration: nothing to restore.
                self._snapshot = None
                return recovered
            if last:
                self._snapshot = None
            try:
                restored = self.restore(snapshot, guard_only=not last)
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
            return replace(restored, script_killed=recovered.script_killed)

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


def _refuse_named_alike(step: Step, found: Sequence[ForeignKeys]) -> Refusal | None:
    """Other data is safe from a step that touches only the workshop's keys, unless some of it
    has the very names the exercises use (an application's own ``product:{id}:details``)."""
    named_alike = tuple(
        replace(entry, count=entry.lookalike, example=entry.lookalike_example)
        for entry in found
        if entry.lookalike
    )
    if not named_alike:
        return None
    return Refusal(step.label, named_alike, USES_EXERCISE_KEYS, named_alike=True)


# -- one guard per server ---------------------------------------------------------------
#: Keyed by URL and ownership: the same server reached with ``--url`` is not ours, even in a
#: process that started it (a test session does).
_GUARDS: dict[tuple[str, bool], ServerGuard] = {}
_GUARDS_LOCK = threading.Lock()


def guard_for(server: ServerInfo) -> ServerGuard:
    """The guard of ``server`` (one per server URL and ownership, shared by every caller)."""
    with _GUARDS_LOCK:
        guard = _GUARDS.get((server.url, server.private))
        if guard is None:
            guard = _GUARDS[server.url, server.private] = ServerGuard(server)
        return guard


def forget_guard(server: ServerInfo) -> None:
    """Drop the guard of a server that is going away (closes its connection)."""
    with _GUARDS_LOCK:
        guard = _GUARDS.pop((server.url, server.private), None)
    if guard is not None:
        guard.close()
