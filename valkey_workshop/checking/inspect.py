"""Helpers for checks that look at what learner code sent: commands on a key, TTL atomicity.

Part of the check-authoring API (with :mod:`valkey_workshop.checking.api`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from valkey_workshop.timing.records import CallRecord

#: SET options that give the key an expiry (or keep the one it has).
SET_EXPIRY_OPTIONS = frozenset({"EX", "PX", "EXAT", "PXAT", "KEEPTTL"})
EXPIRY_COMMANDS = frozenset({"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"})


@dataclass(frozen=True)
class KeyCommand:
    """One command that named a key, and the round trip that carried it."""

    name: str
    args: tuple[object, ...]
    call: CallRecord

    @property
    def started_ns(self) -> int:
        return self.call.started_ns

    @property
    def ended_ns(self) -> int:
        return self.call.ended_ns


def commands(calls: Iterable[CallRecord]) -> list[tuple[str, tuple[object, ...], CallRecord]]:
    """Every command sent, pipelines unpacked, with the round trip that carried it."""
    found = []
    for call in calls:
        batch = call.batch.commands if call.batch else (call.args,)
        for args in batch:
            found.append((str(args[0]).upper(), tuple(args), call))
    return found


def replies(calls: Iterable[CallRecord]) -> list[tuple[str, tuple[object, ...], object]]:
    """Every command sent, pipelines unpacked, with its own reply (None where the round trip
    failed or a pipeline's replies do not line up with its commands)."""
    found: list[tuple[str, tuple[object, ...], object]] = []
    for call in calls:
        if call.batch is None:
            found.append((str(call.args[0]).upper(), tuple(call.args), call.reply))
            continue
        answers = call.reply if isinstance(call.reply, list) else []
        if len(answers) != len(call.batch.commands):
            answers = [None] * len(call.batch.commands)
        for args, answer in zip(call.batch.commands, answers, strict=True):
            found.append((str(args[0]).upper(), tuple(args), answer))
    return found


def on_key(calls: Iterable[CallRecord], key: str, names: Iterable[str]) -> list[KeyCommand]:
    """Commands from ``names`` that name ``key`` among their arguments."""
    wanted = {name.upper() for name in names}
    return [
        KeyCommand(name, args, call)
        for name, args, call in commands(calls)
        if name in wanted and key in [str(a) for a in args[1:]]
    ]


def set_sets_expiry(args: Sequence[object]) -> bool:
    """Whether a SET command's options give the key an expiry (EX, PX, ... or KEEPTTL)."""
    return bool({str(a).upper() for a in args[3:]} & SET_EXPIRY_OPTIONS)


def ttl_window(calls: Sequence[CallRecord], key: str) -> str | None:
    """Describe the window without TTL when ``key`` got its value and its expiry in separate
    steps (SET, then EXPIRE, not inside one MULTI/EXEC); None when it was atomic."""
    sets = [c for c in on_key(calls, key, {"SET"}) if not set_sets_expiry(c.args)]
    expiries = on_key(calls, key, EXPIRY_COMMANDS)
    for plain_set in sets:
        for expiry in expiries:
            same_transaction = (
                expiry.call is plain_set.call
                and plain_set.call.batch is not None
                and plain_set.call.batch.transaction
            )
            if not same_transaction:
                how = (
                    "in one pipeline without MULTI/EXEC"
                    if expiry.call is plain_set.call
                    else "in two round trips"
                )
                return (
                    f"{key} got its value and its TTL {how} (SET, then {expiry.name}): in between "
                    "the key exists with no TTL, and a crash there leaves it forever. Use one "
                    "command: set(key, value, ex=seconds) or setex(...), or send both inside "
                    "MULTI/EXEC: pipeline(transaction=True)."
                )
    return None


#: Commands that run a server-side script; their keys follow the script (or its SHA or the
#: function's name) and the number of keys.
SCRIPT_COMMANDS = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})
#: Round trips that only put a script on the server (valkey-py's ``register_script`` sends
#: SCRIPT LOAD after a NOSCRIPT reply; a pipeline of scripts asks SCRIPT EXISTS first).
SCRIPT_LOADING = frozenset({"SCRIPT LOAD", "SCRIPT EXISTS", "FUNCTION LOAD"})


def text(value: object) -> str:
    """A command argument as text (valkey-py sends some option names as bytes)."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def script_arguments(args: Sequence[object]) -> tuple[str, ...]:
    """The keys and arguments a script command carries (everything after the script, its SHA
    or function name, and the number of keys), as text; () for any other command."""
    if not args or text(args[0]).upper() not in SCRIPT_COMMANDS or len(args) < 3:
        return ()
    return tuple(text(a) for a in args[3:])


def _command_name(args: Sequence[object]) -> str:
    """``SCRIPT LOAD`` whether valkey-py sent it as one token or two."""
    if not args:
        return "?"
    first = text(args[0]).upper()
    if " " not in first and len(args) > 1 and first in {"SCRIPT", "FUNCTION"}:
        return f"{first} {text(args[1]).upper()}"
    return first


def is_script_loading(call: CallRecord) -> bool:
    """Whether a round trip only loads a script: SCRIPT LOAD/EXISTS, FUNCTION LOAD, or an
    EVALSHA the server refused with NOSCRIPT (valkey-py then loads the script and sends the
    EVALSHA again). Such round trips happen once per script and server, not per call."""
    if call.batch is not None:
        return False
    name = _command_name(call.args)
    if name in SCRIPT_LOADING:
        return True
    return name in {"EVALSHA", "EVALSHA_RO"} and "NOSCRIPT" in (call.error or "").upper()


def data_round_trips(calls: Iterable[CallRecord]) -> list[CallRecord]:
    """The round trips that carried commands on data: script loading left out (see
    :func:`is_script_loading`)."""
    return [call for call in calls if not is_script_loading(call)]
