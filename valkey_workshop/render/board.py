"""The trainer's live board: learners by steps, what fails most, who is stuck, the timer.

Fits 80 columns for 30 learners (a name column and one narrow column per step); a larger class
is shown a page at a time, stuck learners first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from valkey_workshop.classroom.board import BoardSnapshot, LearnerStep, sorted_for_board
from valkey_workshop.render.console import out_console
from valkey_workshop.render.theme import FAIL, HEADING, MUTED, PASS, WARN
from valkey_workshop.words import plural

#: Rows of learners per page when the terminal's height is unknown.
DEFAULT_ROWS = 30
_NAME_WIDTH = 16
_CELL_WIDTH = 5


def _cell(cell: LearnerStep | None) -> tuple[str, str]:
    """The symbol and style of one learner's step: ✓ passed, ✗N failed N times, » skipped."""
    if cell is None or cell.status == "not-started":
        return "·", MUTED
    if cell.status == "passed":
        return "✓", PASS
    if cell.status == "skipped":
        return "»", WARN
    return (f"✗{cell.attempts}" if cell.attempts < 100 else "✗99"), FAIL


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def board_view(
    snapshot: BoardSnapshot,
    rows: int = DEFAULT_ROWS,
    page: int = 0,
    silent_since: str | None = None,
) -> RenderableType:
    """The board at one moment; ``page`` picks which ``rows`` learners are shown;
    ``silent_since`` (a clock time) says the class server stopped answering then."""
    learners = sorted_for_board(snapshot.learners)
    pages = max(1, -(-len(learners) // max(1, rows)))
    page %= pages
    shown = learners[page * rows : (page + 1) * rows]
    title = Text.assemble(
        (f"Class {snapshot.class_id} · {snapshot.module}", HEADING),
        (
            f"  ⏱ {_clock(snapshot.elapsed_seconds)} of {snapshot.planned_minutes}:00"
            f"  · {plural(len(learners), 'learner')} · {plural(snapshot.events, 'event')}",
            MUTED,
        ),
    )
    # Plain fixed-width lines, not a Table: a board redraws every second for up to 200
    # learners, and measuring a table's columns costs more than the whole redraw may.
    header = Text("learner".ljust(_NAME_WIDTH), style=HEADING)
    for column in snapshot.steps:
        header.append(f"{column.number:02d}".rjust(_CELL_WIDTH), style=HEADING)
    lines = [header]
    for row in shown:
        stuck = row.stuck_minutes is not None
        # "!" marks a stuck learner without colour (NO_COLOR, projectors).
        label = row.shown_name or row.name
        name = f"! {label}" if stuck else label
        if row.left:
            name = f"(left) {label}"
        if len(name) > _NAME_WIDTH - 1:
            name = name[: _NAME_WIDTH - 2] + "…"
        line = Text(name.ljust(_NAME_WIDTH), style=FAIL if stuck else "")
        for column in snapshot.steps:
            symbol, style = _cell(row.steps.get(column.number))
            line.append(symbol.rjust(_CELL_WIDTH), style=style)
        lines.append(line)
    totals = Text("passed".ljust(_NAME_WIDTH), style=MUTED)
    for column in snapshot.steps:
        totals.append(str(column.passed).rjust(_CELL_WIDTH), style=MUTED)
    lines.append(totals)
    table = Text("\n").join(lines)
    parts: list[RenderableType] = [title]
    if silent_since is not None:
        parts.append(
            Text(
                f"⚠ The class server has not answered since {silent_since}: this is the last "
                "board it gave. Learners' results wait in their outboxes.",
                style=WARN,
            )
        )
    parts.append(table)
    if pages > 1:
        parts.append(Text(f"page {page + 1}/{pages} (pages turn every few seconds)", style=MUTED))
    if snapshot.failing:
        parts.append(Text("Failing most right now:", style=HEADING))
        for item in snapshot.failing[:5]:
            parts.append(Text(f"  {plural(item.learners, 'learner')}: {item.step:02d} {item.name}"))
    if snapshot.stuck:
        names = ", ".join(
            f"{row.shown_name or row.name} ({row.current_step:02d}, "
            f"{int(row.stuck_minutes or 0)} min)"
            for row in snapshot.stuck[:6]
        )
        more = len(snapshot.stuck) - 6
        parts.append(Text(f"Stuck: {names}" + (f" and {more} more" if more > 0 else ""), WARN))
    if not learners:
        parts.append(Text("No learner has joined yet.", style=MUTED))
    parts.append(Text("Ctrl-C to leave the board; the class keeps running.", style=MUTED))
    return Group(*parts)


def page_rows(console: Console) -> int:
    """How many learners fit on the screen under the title and above the summaries."""
    return max(5, console.size.height - 14) if console.is_terminal else DEFAULT_ROWS


@contextmanager
def live_board(refresh_seconds: float = 1.0) -> Iterator[Callable[[RenderableType], None]]:
    """A live display redrawn at most once per ``refresh_seconds``; yields ``update``."""
    console = out_console()
    with Live(console=console, refresh_per_second=1 / refresh_seconds, screen=False) as live:

        def update(renderable: RenderableType) -> None:
            live.update(renderable)

        yield update


def board_page(turn_seconds: float = 5.0) -> int:
    """Which page to show now: pages turn every ``turn_seconds``."""
    return int(time.monotonic() // turn_seconds)
