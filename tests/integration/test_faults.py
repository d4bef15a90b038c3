"""Injected Valkey faults on a real server: a connection dropped from, or at, one round trip."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
import valkey

from valkey_workshop.checking import faults
from valkey_workshop.checking.api import CheckContext, CheckFailed
from valkey_workshop.server.base import ServerInfo

KEY = "workshop:faults:key"


def context(url: str) -> CheckContext:
    return CheckContext(types.ModuleType("exercise"), Path("exercise.py"), url, seed=1)


def store_then_expire(client: object) -> None:
    client.set(KEY, "v")  # type: ignore[attr-defined] # a valkey client
    client.expire(KEY, 60)  # type: ignore[attr-defined]


def test_the_connection_drops_from_the_chosen_round_trip_on(server: ServerInfo) -> None:
    ctx = context(server.url)
    try:
        client = faults.dropping_client(ctx, 2)
        client.set(KEY, "v")
        with pytest.raises(faults.DroppedConnection):
            client.expire(KEY, 60)
        with pytest.raises(faults.DroppedConnection):
            client.get(KEY)  # still gone
        assert client.counter.first_failed == "EXPIRE"
        alone = faults.dropping_client(ctx, 1, transient=True)
        with pytest.raises(faults.DroppedConnection):
            alone.pipeline().set(KEY, "w").expire(KEY, 5).execute()
        assert alone.get(KEY) == "v"  # it came back; the pipeline never ran
    finally:
        ctx.server.delete(KEY)
        ctx.close()


def test_a_swallowed_failure_is_named_and_a_raised_one_passes(server: ServerInfo) -> None:
    ctx = context(server.url)
    try:
        faults.require_failure_reaches_caller(ctx, "f()", store_then_expire, why="stored")

        def swallowing(client: object) -> None:
            try:  # noqa: SIM105 - the mistake under test, as learners write it
                store_then_expire(client)
            except Exception:  # noqa: BLE001, S110 - as above
                pass

        with pytest.raises(CheckFailed) as failure:
            faults.require_failure_reaches_caller(ctx, "g()", swallowing, why="it is stored")
        assert str(failure.value).startswith(
            "The connection to Valkey dropped at round trip 1 of 2 (SET), yet g() returned None"
        )
    finally:
        ctx.server.delete(KEY)
        ctx.close()


def watch_then_set(client: object, *, give_up: bool) -> None:
    """A WATCH/MULTI/EXEC update; ``give_up``: a WatchError is caught and the work dropped."""
    with client.pipeline() as pipe:  # type: ignore[attr-defined] # a valkey client
        pipe.watch(KEY)
        pipe.get(KEY)
        pipe.multi()
        pipe.set(KEY, "w")
        try:
            pipe.execute()
        except valkey.WatchError:
            if not give_up:
                raise


def test_valkey_pys_watch_error_for_a_lost_connection_reaches_the_caller(
    server: ServerInfo,
) -> None:
    """valkey-py raises WatchError, not ConnectionError, when the connection drops while a key
    is WATCHed: that is the drop reaching the caller; swallowing it is named as such."""
    ctx = context(server.url)
    try:
        faults.require_failure_reaches_caller(
            ctx, "f()", lambda c: watch_then_set(c, give_up=False), why="stored"
        )
        with pytest.raises(CheckFailed) as failure:
            faults.require_failure_reaches_caller(
                ctx, "g()", lambda c: watch_then_set(c, give_up=True), why="it is stored"
            )
        message = str(failure.value)
        assert "yet g() returned None" in message
        assert "reports a connection lost while a key is WATCHed as a WatchError" in message
        assert "was the error caught" not in message
    finally:
        ctx.server.delete(KEY)
        ctx.close()
