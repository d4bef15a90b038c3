"""Injected Valkey faults for checks: a connection that drops at a chosen round trip.

Part of the check-authoring API (with :mod:`valkey_workshop.checking.api`). A check hands the
learner's function a :class:`DroppingClient` that works for its first round trips and loses
its connection from round trip ``k`` on (every later one, retries included, fails too: the
server is gone), for each ``k`` in turn; :func:`require_failure_reaches_caller` does that and
fails the check when the function returns as if its work were done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import valkey

from valkey_workshop.checking.api import CheckContext, describe_exception
from valkey_workshop.timing.client import TimedPipeline, TimedValkey
from valkey_workshop.timing.records import CallLog


class DroppedConnection(valkey.ConnectionError):  # type: ignore[misc] # valkey-py is untyped
    """The connection the check dropped (a ``valkey.ConnectionError``, as a real drop is)."""


class _Counter:
    def __init__(self, fail_from: int | None, *, transient: bool = False) -> None:
        self.fail_from = fail_from
        self.transient = transient
        self.round_trips = 0
        self.first_failed: str | None = None

    def tick(self, what: str) -> None:
        self.round_trips += 1
        if self.fail_from is None or self.round_trips < self.fail_from:
            return
        if not self.transient or self.round_trips == self.fail_from:
            if self.first_failed is None:
                self.first_failed = what
            raise DroppedConnection("Connection lost (dropped by the check)")


def _name(args: tuple[Any, ...]) -> str:
    return str(args[0]).upper() if args else "?"


class DroppingPipeline(TimedPipeline):
    """A pipeline whose round trips count towards its client's drop."""

    counter: _Counter

    def _send_command_parse_response(
        self, conn: Any, command_name: str, *args: Any, **options: Any
    ) -> Any:
        self.counter.tick(_name(args))
        return super()._send_command_parse_response(conn, command_name, *args, **options)

    def _timed(
        self, transaction: bool, commands: Any, execute: Any, connection: Any, raise_on_error: bool
    ) -> Any:
        names = [_name(tuple(args)) for args, _ in commands]
        self.counter.tick(f"a pipeline of {', '.join(names[:3])}{', …' if len(names) > 3 else ''}")
        return super()._timed(transaction, commands, execute, connection, raise_on_error)


class DroppingClient(TimedValkey):
    """A timed client that loses its connection from round trip ``fail_from`` on (never,
    when None), or, ``transient``, at that round trip only: what it counts is in
    :attr:`round_trips`."""

    def __init__(
        self, *args: Any, fail_from: int | None = None, transient: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.counter = _Counter(fail_from, transient=transient)

    @property
    def round_trips(self) -> int:
        return self.counter.round_trips

    def _send_command_parse_response(
        self, conn: Any, command_name: str, *args: Any, **options: Any
    ) -> Any:
        self.counter.tick(_name(args))
        return super()._send_command_parse_response(conn, command_name, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> DroppingPipeline:
        pipe = DroppingPipeline(
            self.connection_pool,
            self.response_callbacks,
            transaction,
            shard_hint,
            call_log=self.call_log,
        )
        pipe.counter = self.counter
        return pipe


def dropping_client(
    ctx: CheckContext, fail_from: int | None, *, transient: bool = False
) -> DroppingClient:
    """A client like the learner's (``decode_responses=True``) that drops from round trip
    ``fail_from`` on (``transient``: at that one only); closed when the checks end."""
    pool = valkey.ConnectionPool.from_url(ctx.url, decode_responses=True)
    client = DroppingClient(
        connection_pool=pool, call_log=CallLog(), fail_from=fail_from, transient=transient
    )
    ctx._extra_clients.append(client)  # closed with the context's own clients
    return client


#: What a check passes: it runs the learner's function with the given client and returns
#: what the function returned (the check's own set-up runs inside, on its own connection).
Attempt = Callable[[valkey.Valkey], Any]


def require_failure_reaches_caller(
    ctx: CheckContext,
    call: str,
    attempt: Attempt,
    *,
    why: str,
    accept: Callable[[Any], bool] | None = None,
    done: Callable[[], bool] | None = None,
) -> None:
    """Run ``attempt`` once on a working client to count its round trips, then once for each
    round trip with the connection dropped from there on: the ``DroppedConnection`` must
    reach the caller. ``accept`` says which return values are fine all the same (a read
    that serves the database's record when the cache is down, say). ``call`` names the call
    in messages (``cache_with_ttl('k', 'v', 60)``); ``why`` says what the caller would
    wrongly believe. With ``done`` (is the work there on the server now?), each round trip is
    also dropped alone, the connection coming back after it: then a normal return must leave
    the work done (a retry is fine; a swallowed error is not)."""
    trips = dropping_client(ctx, None)
    attempt(trips)
    total = trips.round_trips
    modes = [False, True] if done is not None else [False]
    for fail_from, transient in ((k, mode) for k in range(1, total + 1) for mode in modes):
        client = dropping_client(ctx, fail_from, transient=transient)
        try:
            result = attempt(client)
        except DroppedConnection:
            continue
        except valkey.ConnectionError:
            continue  # raised anew by the learner's code, with its own words: fine
        except valkey.WatchError as error:
            if _watch_lost_connection(error):
                continue  # valkey-py's own word for a connection lost while WATCHing
            ctx.fail(
                f"The connection to Valkey dropped at round trip {fail_from} of {total} "
                f"({client.counter.first_failed}) and {call} raised "
                f"{describe_exception(error, ctx.exercise_file)} instead of the ConnectionError."
            )
        except NotImplementedError:
            ctx.fail(f"{call} is not written yet: fill in the TODOs.")
        except Exception as error:  # noqa: BLE001 - whatever else it raised is the finding
            ctx.fail(
                f"The connection to Valkey dropped at round trip {fail_from} of {total} "
                f"({client.counter.first_failed}) and {call} raised "
                f"{describe_exception(error, ctx.exercise_file)} instead of the "
                "ConnectionError: was the error caught and the work carried on without it?"
            )
        if accept is not None and accept(result):
            continue
        if transient and done is not None and done():
            continue
        alone = " (that one only; it came back after)" if transient else ""
        watched = any(c.command == "WATCH" for c in client.call_log.records(0))
        caught = (
            " valkey-py reports a connection lost while a key is WATCHed as a WatchError "
            "(not a ConnectionError): catching WatchError and giving up drops the work; "
            "after a WatchError, try again, and let a ConnectionError through."
            if watched
            else " Let the error reach the caller (no except Exception: pass)."
        )
        ctx.fail(
            f"The connection to Valkey dropped at round trip {fail_from} of {total}{alone} "
            f"({client.counter.first_failed}), yet {call} returned {result!r} as if it had "
            f"worked: {why}.{caught}"
        )


def _watch_lost_connection(error: BaseException) -> bool:
    """Whether a WatchError is valkey-py's report of a connection lost while WATCHing (it
    raises WatchError then, so that callers retry), not of a key another client changed."""
    return isinstance(error.__cause__, valkey.ConnectionError) or "ConnectionError" in str(error)
