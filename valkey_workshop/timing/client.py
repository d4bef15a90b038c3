"""A valkey-py client that times every round trip.

The clock runs around sending the command and reading its reply (``perf_counter_ns``), not
around pool bookkeeping and never around anything the caller does with the result (rendering
included). A pipeline is one round trip of N commands and is recorded once.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import Any

import valkey
from valkey.client import Pipeline

from valkey_workshop.timing.records import LONG_REPLY_TYPES, CallLog, PipelineBatch, long_reply


class _TimedRoundTrips:
    """Mixin: time ``_send_command_parse_response``, the one place a single command goes out.

    This is the hot path: it binds what it needs locally and appends a bare tuple, so a GET
    costs about the same as with a plain client (see benchmarks/timed_client_overhead.py).
    """

    call_log: CallLog

    def _send_command_parse_response(
        self, conn: Any, command_name: str, *args: Any, **options: Any
    ) -> Any:
        append = self.call_log.append
        started = perf_counter_ns()
        try:
            # valkey-py's own two lines, inlined: one call level (and argument repacking) less.
            conn.send_command(*args)
            reply = self.parse_response(conn, command_name, **options)  # type: ignore[attr-defined] # valkey.Valkey's, through the MRO
        except Exception as error:
            append((args, error, started, perf_counter_ns()))
            raise
        ended = perf_counter_ns()
        # Only the log's copy is cut short (learner code gets the whole reply): a loop over
        # HKEYS of a 200,000-field hash once filled the check's 1 GiB with kept replies.
        kept = reply if type(reply) not in LONG_REPLY_TYPES else long_reply(reply)
        append((args, kept, started, ended))
        return reply


class TimedPipeline(_TimedRoundTrips, Pipeline):  # type: ignore[misc] # valkey-py is untyped
    """A pipeline recorded as one round trip carrying all its commands."""

    def __init__(self, *args: Any, call_log: CallLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_log = call_log

    def _execute_transaction(self, connection: Any, commands: Any, raise_on_error: bool) -> Any:
        return self._timed(True, commands, super()._execute_transaction, connection, raise_on_error)

    def _execute_pipeline(self, connection: Any, commands: Any, raise_on_error: bool) -> Any:
        return self._timed(False, commands, super()._execute_pipeline, connection, raise_on_error)

    def _timed(
        self, transaction: bool, commands: Any, execute: Any, connection: Any, raise_on_error: bool
    ) -> Any:
        batch = PipelineBatch(tuple(tuple(args) for args, _ in commands), transaction)
        started = perf_counter_ns()
        try:
            replies = execute(connection, commands, raise_on_error)
        except Exception as error:
            self.call_log.append_raw(batch, error, started, perf_counter_ns())
            raise
        self.call_log.append_raw(batch, replies, started, perf_counter_ns())
        return replies


class TimedValkey(_TimedRoundTrips, valkey.Valkey):  # type: ignore[misc] # valkey-py is untyped
    """``valkey.Valkey`` with a :class:`CallLog` of every round trip it makes."""

    def __init__(self, *args: Any, call_log: CallLog | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_log = call_log if call_log is not None else CallLog()

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> TimedPipeline:
        return TimedPipeline(
            self.connection_pool,
            self.response_callbacks,
            transaction,
            shard_hint,
            call_log=self.call_log,
        )


def connect(url: str, call_log: CallLog | None = None, **options: Any) -> TimedValkey:
    """A timed client for ``url`` with ``decode_responses=True`` unless told otherwise."""
    options.setdefault("decode_responses", True)
    pool = valkey.ConnectionPool.from_url(url, **options)
    return TimedValkey(connection_pool=pool, call_log=call_log)
