"""The trainer's live board: learners by steps, where each is and for how long, raised hands,
who is stuck, what fails most, the timer.

Fits 80 columns for 30 learners (a marker, a name column, the current step and the time on it,
when the class server last heard from the learner, one narrow column per step). Widths are
terminal cells (Rich's), so a wide or emoji name keeps its row's columns. Given the terminal's
height, the hands and stuck lines always show and the learner rows page instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.cells import cell_len, set_cell_size
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from valkey_workshop.classroom.board import (
    BoardSnapshot,
    LearnerRow,
    LearnerStep,
    sorted_for_board,
)
from valkey_workshop.render.console import out_console
from valkey_workshop.render.theme import FAIL, HEADING, MUTED, PASS, WARN
from valkey_workshop.words import plural

#: Rows of learners per page when the terminal's height is unknown.
DEFAULT_ROWS = 30
_NAME_WIDTH = 16
_CELL_WIDTH = 5
_MARK_WIDTH = 2
_NOW_WIDTH = 5
_ON_WIDTH = 5
_SEEN_WIDTH = 5
_FAILING_SHOWN = 3
_LEGEND = "✋ hand  ! stuck  z idle  · not started  ✗N failed N times  » skipped"


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with …) to exactly ``width`` terminal cells."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def _cell(cell: LearnerStep | None) -> tuple[str, str]:
    """The symbol and style of one learner's step: ✓ passed, ✗N failed N times, » skipped."""
    if cell is None or cell.status == "not-started":
        return "·", MUTED
    if cell.status == "passed":
        return "✓", PASS
    if cell.status == "skipped":
        return "»", WARN
    return (f"✗{cell.attempts}" if cell.attempts < 100 else "✗99+"), FAIL


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _minutes(value: float | None) -> str:
    if value is None:
        return ""
    return f"{int(value)}m" if value < 600 else "10h+"


def _seen(seconds: float) -> str:
    """How long ago the class server last heard from a learner: ``12s``, ``4m``, ``2h``."""
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{min(99, int(seconds // 3600))}h"


def _marker(row: LearnerRow) -> tuple[str, str]:
    """Hand, stuck or idle, without colour too (NO_COLOR, projectors)."""
    if row.hand_minutes is not None:
        return "✋", WARN
    if row.stuck_minutes is not None:
        return "!", FAIL
    if row.idle and not row.never_started:
        return "z", MUTED
    return "", ""


def _where(row: LearnerRow) -> str:
    if row.left:
        return "left"
    if row.never_started:
        return "new"
    return f"{row.current_step:02d}" if row.current_step is not None else ""


def _learner_line(row: LearnerRow, snapshot: BoardSnapshot) -> Text:
    mark, mark_style = _marker(row)
    line = Text(fit(mark, _MARK_WIDTH), style=mark_style)
    stuck = row.stuck_minutes is not None
    line.append(fit(row.shown_name or row.name, _NAME_WIDTH), style=FAIL if stuck else "")
    line.append(_where(row).rjust(_NOW_WIDTH), style=MUTED if row.left else "")
    on = "idle" if row.idle and not row.left and not row.never_started else ""
    line.append((on or _minutes(row.on_step_minutes)).rjust(_ON_WIDTH), style=MUTED)
    line.append(_seen(row.last_seen_seconds).rjust(_SEEN_WIDTH), style=MUTED)
    for column in snapshot.steps:
        symbol, style = _cell(row.steps.get(column.number))
        line.append(symbol.rjust(_CELL_WIDTH), style=style)
    return line


def _names(rows: tuple[LearnerRow, ...], minutes: Callable[[LearnerRow], float | None]) -> str:
    return ", ".join(
        f"{row.shown_name} ("
        + (
            "not started"
            if row.never_started or row.current_step is None
            else f"{row.current_step:02d}"
        )
        + f", {int(minutes(row) or 0)} min)"
        for row in rows
    )


def board_view(
    snapshot: BoardSnapshot,
    rows: int = DEFAULT_ROWS,
    page: int = 0,
    silent_since: str | None = None,
    height: int | None = None,
) -> RenderableType:
    """The board at one moment; ``page`` picks which ``rows`` learners are shown;
    ``silent_since`` (a clock time) says the class server stopped answering then. With
    ``height`` (the terminal's lines) the board fits it: every summary line shows, each on one
    line, and the learner rows take what is left."""
    learners = sorted_for_board(snapshot.learners)
    title = Text.assemble(
        (f"Class {snapshot.class_id} · {snapshot.module}", HEADING),
        (
            f"  ⏱ {_clock(snapshot.elapsed_seconds)} of {snapshot.planned_minutes}:00"
            f"  · {plural(len(learners), 'learner')} · {plural(snapshot.events, 'event')}"
            + (f" · {snapshot.rejected} refused" if snapshot.rejected else ""),
            MUTED,
        ),
    )
    above: list[Text] = [title]
    if snapshot.full:
        above.append(
            Text(
                f"⚠ The class is full ({snapshot.max_learners} seats): new joins are refused"
                f" ({plural(snapshot.rejected_joins, 'join')} refused); `class remove NAME` "
                "frees a seat.",
                style=WARN,
            )
        )
    if snapshot.memory_full:
        above.append(
            Text(
                "⚠ The class server's memory is full: it stores no new result until it has "
                "room (learners' results wait in their inboxes and outboxes).",
                style=WARN,
            )
        )
    if snapshot.unstored:
        above.append(
            Text(
                f"⚠ The class server refused to store {plural(snapshot.unstored, 'result')}; "
                "they wait in the learners' inboxes and are tried again.",
                style=WARN,
            )
        )
    if silent_since is not None:
        above.append(
            Text(
                f"⚠ The class server has not answered since {silent_since}: this is the last "
                "board it gave. Learners' results wait in their outboxes.",
                style=WARN,
            )
        )
    below: list[Text] = []
    if snapshot.hands:
        below.append(Text(f"Hands up: {_names(snapshot.hands, lambda r: r.hand_minutes)}", WARN))
    if snapshot.stuck:
        below.append(Text(f"Stuck: {_names(snapshot.stuck, lambda r: r.stuck_minutes)}", WARN))
    if snapshot.failing:
        below.append(Text("Failing most right now (learners on that step):", style=HEADING))
        below.extend(
            Text(f"  {plural(item.learners, 'learner')}: {item.step:02d} {item.name}")
            for item in snapshot.failing[:_FAILING_SHOWN]
        )
    if not learners:
        below.append(Text("No learner has joined yet.", style=MUTED))
    below.append(Text(f"{_LEGEND} · Ctrl-C leaves the board", style=MUTED))
    if height is not None:
        # Title, warnings, header, totals, page line and the summaries always show.
        rows = max(1, height - len(above) - len(below) - 3)
    pages = max(1, -(-len(learners) // max(1, rows)))
    page %= pages
    shown = learners[page * rows : (page + 1) * rows]
    # Plain fixed-width lines, not a Table: a board redraws every second for up to 200
    # learners, and measuring a table's columns costs more than the whole redraw may.
    header = Text(
        " " * _MARK_WIDTH
        + "learner".ljust(_NAME_WIDTH)
        + "now".rjust(_NOW_WIDTH)
        + "on".rjust(_ON_WIDTH)
        + "seen".rjust(_SEEN_WIDTH),
        style=HEADING,
    )
    for column in snapshot.steps:
        header.append(f"{column.number:02d}".rjust(_CELL_WIDTH), style=HEADING)
    lines = [header, *(_learner_line(row, snapshot) for row in shown)]
    totals = Text(
        " " * _MARK_WIDTH + "passed".ljust(_NAME_WIDTH + _NOW_WIDTH + _ON_WIDTH + _SEEN_WIDTH),
        style=MUTED,
    )
    for column in snapshot.steps:
        totals.append(str(column.passed).rjust(_CELL_WIDTH), style=MUTED)
    lines.append(totals)
    page_line = Text(
        f"page {page + 1}/{pages} (pages turn every few seconds)" if pages > 1 else "",
        style=MUTED,
    )
    parts = [*above, *lines, page_line, *below]
    for part in parts:
        part.no_wrap = True
        part.overflow = "ellipsis"
    return Group(*parts)


def learner_view(
    rows: list[LearnerRow], snapshot: BoardSnapshot, check_names: dict[tuple[int, str], str]
) -> RenderableType:
    """``class board --learner NAME``: each step's result, attempts, time and failing checks."""
    slugs = {column.number: column.slug for column in snapshot.steps}
    parts: list[RenderableType] = []
    for row in rows:
        where = _where(row)
        state = [
            f"on {where} for {_minutes(row.on_step_minutes) or '0m'}"
            if where not in ("left", "new", "")
            else where,
            f"last seen {int(row.last_seen_seconds)} s ago",
        ]
        if row.hand_minutes is not None:
            state.append(f"hand up {int(row.hand_minutes)} min")
        if row.stuck_minutes is not None:
            state.append(f"stuck {int(row.stuck_minutes)} min")
        if row.idle and not row.left:
            state.append("idle")
        parts.append(Text(f"{row.shown_name} ({row.learner_id}) · " + " · ".join(state), HEADING))
        for number, cell in sorted(row.steps.items()):
            symbol, style = _cell(cell)
            line = Text(f"  {number:02d} {slugs.get(number, '?'):<24}", style="")
            line.append(symbol.ljust(4), style=style)
            line.append(f" {_clock(cell.seconds):>6}  {plural(cell.hints, 'hint')}", MUTED)
            parts.append(line)
            for check in cell.failing:
                parts.append(Text(f"       ✗ {check_names.get((number, check), check)}", FAIL))
        if not row.steps:
            parts.append(Text("  no step checked yet", MUTED))
    for part in parts:
        if isinstance(part, Text):
            part.no_wrap = True
            part.overflow = "ellipsis"
    return Group(*parts)


def board_height(console: Console) -> int | None:
    """The terminal's height, when the board is shown on one."""
    return console.size.height if console.is_terminal else None


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
