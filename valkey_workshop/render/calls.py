"""Valkey calls on screen: one line per call, or a summary when there are many."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from valkey_workshop.checking.results import CallView, escape_controls
from valkey_workshop.render.format import latency
from valkey_workshop.render.theme import COMMAND, FAIL, LATENCY, MUTED
from valkey_workshop.timing.records import CallRecord, LatencySummary, summarize
from valkey_workshop.words import plural

#: Up to this many calls are listed one per line; more are summarised.
MAX_CALL_LINES = 12


def call_line(args: str, reply: str, latency_us: float, error: bool = False) -> RenderableType:
    """One call: its latency, then the command and its reply; a line too long for the
    terminal wraps under the command, never under the latency column."""
    text = Text(overflow="fold")
    # Keys and values come from learner code: shown, never acted on by the terminal.
    command, _, rest = escape_controls(args).partition(" ")
    text.append(command, style=COMMAND)
    if rest:
        text.append(f" {rest}")
    text.append("  → ", style=MUTED)
    text.append(escape_controls(reply), style=FAIL if error else "")
    row = Table.grid(padding=(0, 2, 0, 0))
    row.add_column(width=10, justify="right", no_wrap=True)
    row.add_column(ratio=1)
    row.add_row(Text(latency(latency_us), style=LATENCY), text)
    return Padding(row, (0, 0, 0, 2))


def summary_table(summary: LatencySummary, title: str = "Valkey calls") -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in ("round trips", "commands", "p50", "p99", "max", "total", "errors"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary.round_trips),
        str(summary.commands),
        latency(summary.p50_us),
        latency(summary.p99_us),
        latency(summary.max_us),
        latency(summary.total_ms * 1_000),
        str(summary.errors),
    )
    return table


def records_view(records: Sequence[CallRecord]) -> RenderableType:
    """The calls of a demo step: each one, or a summary for bulk work."""
    if len(records) <= MAX_CALL_LINES:
        return Group(
            *(
                call_line(r.args_summary, r.reply_summary, r.latency_us, r.error is not None)
                for r in records
            )
        )
    summary = summarize(records)
    busiest = ", ".join(f"{name} x{count}" for name, count in list(summary.by_command.items())[:4])
    return Group(summary_table(summary, f"{plural(len(records), 'round trip')} ({busiest})"))


def call_views(calls: Sequence[CallView], total: int) -> RenderableType:
    """The learner's calls during a check."""
    # A long list says little: the first few calls, then how many more there were.
    keep = MAX_CALL_LINES if max(total, len(calls)) <= MAX_CALL_LINES else 5
    shown = list(calls[:keep])
    lines: list[RenderableType] = [call_line(c.args, c.reply, c.latency_us, c.error) for c in shown]
    hidden = max(total, len(calls)) - len(shown)
    if hidden > 0:
        lines.append(Text(f"  … and {plural(hidden, 'more call')}", style=MUTED))
    return Group(*lines)
