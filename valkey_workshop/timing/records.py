"""Call records: what was sent, what came back, how long the round trip took.

The hot path (:meth:`CallLog.append_raw`) stores a tuple and nothing else; records, argument
summaries and statistics are built only when someone reads them, so logging stays within a
few percent of a bare client.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from valkey_workshop.words import plural

#: Values longer than this are cut in summaries.
MAX_VALUE_CHARS = 24
#: Commands with up to this many arguments are shown whole (XREADGROUP ... STREAMS key >: the
#: last two say which entries were asked for).
MAX_ARGS_WHOLE = 12
#: Arguments shown of a longer command (MSET with 2,000); the rest are counted.
MAX_ARGS_SHOWN = 6
#: Commands whose arguments are credentials.
_SECRET_COMMANDS = {"AUTH", "HELLO", "MIGRATE"}
#: CONFIG SET parameters whose values are credentials.
_SECRET_CONFIG = {"requirepass", "masterauth", "masteruser", "tls-key-file-pass"}


@dataclass(frozen=True)
class PipelineBatch:
    """The commands one pipeline sent in a single round trip."""

    commands: tuple[tuple[object, ...], ...]
    transaction: bool


@dataclass(frozen=True)
class CallRecord:
    """One round trip to the server: a command, or a whole pipeline."""

    command: str
    args: tuple[object, ...]
    reply: object
    error: str | None
    started_ns: int
    latency_ns: int
    batch: PipelineBatch | None = None

    @property
    def latency_us(self) -> float:
        return self.latency_ns / 1_000

    @property
    def ended_ns(self) -> int:
        return self.started_ns + self.latency_ns

    @property
    def is_pipeline(self) -> bool:
        return self.batch is not None

    @property
    def command_names(self) -> tuple[str, ...]:
        """Every command name this round trip carried (one, or a pipeline's)."""
        if self.batch is None:
            return (self.command,)
        return tuple(_name(args) for args in self.batch.commands)

    @property
    def args_summary(self) -> str:
        if self.batch is not None:
            names = self.command_names
            shown = " ".join(names[:6]) + (" …" if len(names) > 6 else "")
            return f"{plural(len(names), 'command')}: {shown}"
        return summarize_args(self.command, self.args)

    @property
    def reply_summary(self) -> str:
        if self.error is not None:
            return f"error: {_cut(self.error, 80)}"
        if self.batch is not None and isinstance(self.reply, list):
            return f"{len(self.reply)} replies"
        return summarize_value(self.reply)


def _name(args: Sequence[object]) -> str:
    return str(args[0]).upper() if args else "?"


def _cut(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}…({len(text)} chars)"


def summarize_args(command: str, args: Sequence[object]) -> str:
    """Arguments as the learner would type them: long values cut, credentials hidden."""
    # valkey-py sends some commands as one token ("CONFIG SET"), so split before looking.
    head, rest = (str(args[0]).split(), args[1:]) if args else ([], ())
    count = len(head) + len(rest)
    # Only the arguments that will be shown are turned into text (an MSET of 2,000 is cut
    # to its first few below; its whole text cost more than the round trip).
    shown = rest if count <= MAX_ARGS_WHOLE + 1 else rest[: max(0, MAX_ARGS_SHOWN + 1 - len(head))]
    tokens = [*head, *(_arg_text(value) for value in shown)]
    words = [token.upper() for token in tokens]
    if words and words[0] in _SECRET_COMMANDS:
        tokens = [tokens[0], *("***" for _ in tokens[1:])]
    elif words[:2] == ["CONFIG", "SET"]:
        tokens = [
            "***" if i > 2 and tokens[i - 1].lower() in _SECRET_CONFIG else token
            for i, token in enumerate(tokens)
        ]
    if count > MAX_ARGS_WHOLE + 1:  # MSET with 2,000 arguments fits on no line
        hidden = count - 1 - MAX_ARGS_SHOWN
        tokens = [*tokens[: MAX_ARGS_SHOWN + 1], f"… (+{hidden} args)"]
    return " ".join(tokens)


#: Any whitespace, as str.isspace sees it (a regular expression's \s tests the same).
_SPACE = re.compile(r"\s")


def _arg_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value)
    if text == "" or _SPACE.search(text):
        text = repr(text)
    return _cut(text)


#: Items of a list, set or dict reply the call log keeps (a longer one is cut to these).
KEPT_REPLY_ITEMS = 1000
#: Reply types :func:`long_reply` may cut (the hot path tests the exact type: no subclasses).
LONG_REPLY_TYPES = frozenset({list, dict, set})


class LongReply(list):  # type: ignore[type-arg] # the kept items are whatever the reply held
    """The first :data:`KEPT_REPLY_ITEMS` items of a longer reply, and its full length."""

    def __init__(self, items: list[object], length: int, kind: str) -> None:
        super().__init__(items)
        self.length = length
        self.kind = kind


def long_reply(reply: list[object] | dict[object, object] | set[object]) -> object:
    """``reply`` itself, or a :class:`LongReply` when it holds more than KEPT_REPLY_ITEMS."""
    if len(reply) <= KEPT_REPLY_ITEMS:
        return reply
    items = list(reply.items() if isinstance(reply, dict) else reply)[:KEPT_REPLY_ITEMS]
    return LongReply(items, len(reply), "dict" if isinstance(reply, dict) else "list")


def summarize_value(value: object) -> str:
    """A reply in one short line: ``None``, ``True``, ``'{"id": …'``, ``[3 items]``."""
    # Python values, as the learner's code receives them (valkey-py turns OK into True).
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return _cut(repr(value), MAX_VALUE_CHARS + 2)
    if isinstance(value, (list, tuple, set, dict)):
        length, kind = (
            (value.length, value.kind)
            if isinstance(value, LongReply)
            else (len(value), "dict" if isinstance(value, dict) else "list")
        )
        return f"{{{plural(length, 'field')}}}" if kind == "dict" else f"[{plural(length, 'item')}]"
    return _cut(str(value))


class CallLog:
    """Every round trip a client made, in order. Shared by a client and its pipelines."""

    __slots__ = ("_raw", "append")

    def __init__(self) -> None:
        # (args or PipelineBatch, reply or exception, started_ns, ended_ns)
        self._raw: list[tuple[object, object, int, int]] = []
        #: The hot path: append one raw tuple (what ``append_raw`` does, minus a call).
        self.append = self._raw.append

    def append_raw(self, args: object, reply: object, started_ns: int, ended_ns: int) -> None:
        self._raw.append((args, reply, started_ns, ended_ns))

    def __len__(self) -> int:
        return len(self._raw)

    def mark(self) -> int:
        """A position to read from later with ``records(since=...)``."""
        return len(self._raw)

    def clear(self) -> None:
        self._raw.clear()

    def records(self, since: int = 0) -> list[CallRecord]:
        return [_record(*raw) for raw in self._raw[since:]]


def _record(args: object, reply: object, started_ns: int, ended_ns: int) -> CallRecord:
    error = f"{type(reply).__name__}: {reply}" if isinstance(reply, Exception) else None
    latency = ended_ns - started_ns
    if isinstance(args, PipelineBatch):
        name = "MULTI/EXEC" if args.transaction else "PIPELINE"
        return CallRecord(name, (), None if error else reply, error, started_ns, latency, args)
    assert isinstance(args, tuple)
    return CallRecord(_name(args), args, None if error else reply, error, started_ns, latency)


@dataclass(frozen=True)
class LatencySummary:
    """Latency statistics for many calls, shown instead of thousands of lines."""

    round_trips: int
    commands: int
    p50_us: float
    p99_us: float
    max_us: float
    total_ms: float
    errors: int
    by_command: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many round trips were summarised (each call or pipeline is one)."""
        return self.round_trips


def _percentile(sorted_values: Sequence[int], fraction: float) -> float:
    # Nearest-rank: the smallest value with at least `fraction` of values at or below it.
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def summarize(records: Iterable[CallRecord]) -> LatencySummary:
    """Count, p50, p99, max and total of a set of calls."""
    items = list(records)
    if not items:
        return LatencySummary(0, 0, 0.0, 0.0, 0.0, 0.0, 0)
    latencies = sorted(record.latency_ns for record in items)
    by_command: dict[str, int] = {}
    for record in items:
        for name in record.command_names:
            by_command[name] = by_command.get(name, 0) + 1
    return LatencySummary(
        round_trips=len(items),
        commands=sum(by_command.values()),
        p50_us=_percentile(latencies, 0.50) / 1_000,
        p99_us=_percentile(latencies, 0.99) / 1_000,
        max_us=latencies[-1] / 1_000,
        total_ms=sum(latencies) / 1_000_000,
        errors=sum(1 for record in items if record.error is not None),
        by_command=by_command,
    )
