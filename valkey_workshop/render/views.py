"""Views: data from the core turned into Rich renderables. Nothing here talks to Valkey."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.padding import Padding
from rich.panel import Panel
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from valkey_workshop import naming
from valkey_workshop.checking.results import CheckReport, CheckResult, StepResult, escape_controls
from valkey_workshop.content.loader import ModuleEntry
from valkey_workshop.content.models import Module, Section, Step
from valkey_workshop.demo import (
    BarsShown,
    CallsMade,
    DemoEvent,
    DemoSink,
    Elapsed,
    Heading,
    Narration,
    PicturesShown,
    ServerReplied,
    TableShown,
    ValueShown,
)
from valkey_workshop.render.calls import call_views, records_view
from valkey_workshop.render.console import err_console
from valkey_workshop.render.format import latency, seconds
from valkey_workshop.render.paging import markdown_pages
from valkey_workshop.render.theme import CODE, FAIL, HEADING, KEY, LATENCY, MUTED, PASS, WARN
from valkey_workshop.results.doctor import DoctorReport, PullProgress
from valkey_workshop.results.status import ModuleStatus, ModuleSummary
from valkey_workshop.results.step import HintReveal, SolutionView
from valkey_workshop.results.verify import VerifyReport
from valkey_workshop.session.presenter import SectionTime
from valkey_workshop.session.workdir import ResetOutcome
from valkey_workshop.timing.records import CallRecord, summarize, summarize_value
from valkey_workshop.words import plural

if TYPE_CHECKING:  # rendering never imports the server code (pyproject: importlinter)
    from valkey_workshop.server.base import ServerInfo
    from valkey_workshop.server.resolve import BackendChoice


def verdict(ok: bool, yes: str = "PASS", no: str = "FAIL") -> Text:
    return Text(f"✓ {yes}", style=PASS) if ok else Text(f"✗ {no}", style=FAIL)


# -- server -----------------------------------------------------------------------------
def backend_line(choice: BackendChoice, info: ServerInfo) -> Text:
    text = Text("Server: ", style=MUTED)
    text.append(info.description)
    text.append(f"  (backend {choice.name}: {choice.reason})", style=MUTED)
    return text


# -- check ------------------------------------------------------------------------------
def step_result_view(result: StepResult, module_id: str, show_calls: bool = True) -> RenderableType:
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{result.number:02d} {result.slug}", style=HEADING)
    head.append(f"  {result.title}  ")
    if result.not_run is not None:
        head.append("- NOT RUN", style=WARN)
        parts.append(head)
        parts.append(Padding(Text(result.not_run), (0, 0, 0, 3)))
        return Group(*parts)
    head.append_text(verdict(result.passed))
    head.append(f"  ({seconds(result.duration_ms / 1000)})", style=MUTED)
    parts.append(head)
    parts.append(Text(f"   {result.exercise}", style=MUTED))
    not_run = [check for check in result.checks if not check.ran]
    for check in result.checks:
        if not check.ran:
            continue  # listed together below: one reason, not the same line many times
        line = _mark(check.passed)
        line.append(f" {check.name}")
        parts.append(Padding(line, (0, 0, 0, 3)))
        # Learner output and exception text are shown, never acted on by the terminal.
        if check.passed and check.message:
            parts.append(Padding(Text(escape_controls(check.message), style=MUTED), (0, 0, 0, 7)))
        if not check.passed:
            parts.extend(_failure_parts(check, f"{module_id} {result.slug}", show_calls))
    if not_run:
        parts.extend(_not_run_parts(not_run))
    if result.problem and not result.failures:
        parts.append(
            Padding(Text(f"✗ {escape_controls(result.problem)}", style=FAIL), (0, 0, 0, 3))
        )
    if result.output.strip() and not result.passed:
        tail = "\n".join(escape_controls(result.output).strip().splitlines()[-6:])
        parts.append(Text("   your code printed:", style=MUTED))
        parts.append(Text("\n".join(f"     {line}" for line in tail.splitlines()), style=MUTED))
    return Group(*parts)


def _failure_parts(check: CheckResult, step_ref: str, show_calls: bool) -> list[RenderableType]:
    """What a failed check shows: the message, where to read and which hint, the calls."""
    parts: list[RenderableType] = [Padding(Text(escape_controls(check.message)), (0, 0, 0, 7))]
    pointers = []
    if check.lesson:
        pointers.append(f"lesson: “{check.lesson}”")
    if check.hint is not None:
        pointers.append(f"hint {check.hint}: {naming.program()} hint {step_ref} {check.hint}")
    # One pointer a line: a command split across two lines is hard to copy.
    parts.extend(Padding(Text(pointer, style=MUTED), (0, 0, 0, 7)) for pointer in pointers)
    if show_calls and check.calls:
        parts.append(Text("       your Valkey calls:", style=MUTED))
        parts.append(Padding(call_views(check.calls, check.total_calls), (0, 0, 0, 5)))
    return parts


def _not_run_parts(not_run: list[CheckResult]) -> list[RenderableType]:
    """Checks that never ran, listed once under one reason."""
    reason = escape_controls(not_run[0].message).removeprefix("did not run: ")
    line = _mark(False)
    line.append(f" {plural(len(not_run), 'check')} did not run ({reason}):")
    parts: list[RenderableType] = [Padding(line, (0, 0, 0, 3))]
    parts.extend(Padding(Text(f"· {check.name}", style=MUTED), (0, 0, 0, 7)) for check in not_run)
    return parts


def _mark(ok: bool) -> Text:
    return Text("✓", style=PASS) if ok else Text("✗", style=FAIL)


def check_report_view(report: CheckReport) -> RenderableType:
    parts: list[RenderableType] = []
    for step in report.steps:
        parts.append(step_result_view(step, report.module))
        parts.append(Text())
    passed = sum(1 for step in report.steps if step.passed)
    total = len(report.steps)
    not_run = sum(1 for step in report.steps if step.not_run is not None)
    footer = Text(f"{passed} of {plural(total, 'step')} passed  ")
    if not_run:
        footer.append(f"({not_run} not run)  ", style=WARN)
    if not_run and not any(step.failed for step in report.steps):
        footer.append("- NOT RUN", style=WARN)  # no verdict on the code: nothing failed
    else:
        footer.append_text(verdict(report.passed))
    parts.append(footer)
    return Group(*parts)


# -- lessons and demos ------------------------------------------------------------------
def step_header(module: Module, step: Step) -> RenderableType:
    section = module.section(step.section)
    title = Text(f"Step {step.number:02d}/{len(module.steps):02d}  {step.title}", style=HEADING)
    return Group(Rule(style=MUTED), title, Text(_section_label(section), style=MUTED))


def _section_label(section: Section) -> str:
    """``Caching strategies · 10 min``, or ``... · self-paced, about 25 min``."""
    if section.self_paced:
        return f"{section.title} · self-paced, about {section.minutes} min"
    return f"{section.title} · {section.minutes} min"


def wrapped(text: str) -> Text:
    """Plain text the console wraps between words at its width (paths stay whole)."""
    return Text(text)


def quiet(text: str) -> Text:
    """A line that informs without asking for attention."""
    return Text(text, style=MUTED)


def subheading(text: str) -> Text:
    return Text(text, style=HEADING)


def lesson_view(text: str) -> RenderableType:
    return Markdown(text)


def lesson_pages(console: Console, text: str, height: int) -> list[RenderableType]:
    """The lesson cut into pages of at most ``height`` lines at the console's width, so a
    presenter can show it a screenful at a time; pages break between blocks (see
    ``render.paging``)."""
    pages: list[RenderableType] = [
        Segments(_joined(page)) for page in markdown_pages(console, text, console.options, height)
    ]
    return pages or [Text("")]


def notes_pages(console: Console, text: str, title: str, height: int) -> list[RenderableType]:
    """Trainer notes in a panel per page of at most ``height`` lines (borders included), the
    page shown in the title when there is more than one."""
    inner = console.options.update_width(max(20, console.width - 4))
    pages = markdown_pages(console, text, inner, max(1, height - 2))
    if len(pages) <= 1:
        return [notes_view(text, title)]
    return [
        Panel(Segments(_joined(page)), title=f"{title} ({number}/{len(pages)})", title_align="left")
        for number, page in enumerate(pages, start=1)
    ]


def _joined(lines: list[list[Segment]]) -> list[Segment]:
    segments: list[Segment] = []
    for line in lines:
        segments.extend(line)
        segments.append(Segment.line())
    return segments


def demo_sink(console: Console) -> DemoSink:
    """Render demo events as they happen."""

    def show(event: DemoEvent) -> None:
        console.print(demo_event_view(event))

    return show


def demo_event_view(event: DemoEvent) -> RenderableType:  # noqa: PLR0911 - one case per event type
    """One demo event as it appears on screen."""
    match event:
        case Narration(text=text):
            return Markdown(text)
        case Heading(text=text):
            return Text(f"▸ {text}", style=HEADING)
        case CallsMade(records=records):
            return records_view(records)
        case ValueShown(label=label, value=value):
            # A demo shows a value to be read: containers in full (up to a point), not counted.
            if isinstance(value, str):
                shown = value
            elif isinstance(value, (dict, list, tuple)):
                text = repr(value)
                shown = text if len(text) <= 160 else text[:159] + "…"
            else:
                shown = summarize_value(value)
            return Text.assemble((f"  {label}: ", MUTED), shown)
        case ServerReplied(label=label, text=text):
            # The server's words, quoted and set apart: not the course speaking.
            reply = Text.assemble((f"  {label}: ", MUTED), ("the server replied", MUTED))
            quote = Text(text, style=CODE)
            return Group(reply, Padding(quote, (0, 0, 0, 4)))
        case Elapsed(label=label, seconds=spent):
            return Text.assemble(("  ⏱  ", MUTED), f"{label}: ", (seconds(spent), HEADING))
        case PicturesShown():
            return pictures_view(event)
        case TableShown():
            return table_view(event)
        case BarsShown():
            return bars_view(event.title, event.unit, event.bars)


def bars_view(title: str, unit: str, bars: Sequence[tuple[str, float]], width: int = 36) -> Group:
    """Horizontal bars with their values written out (no colour needed to read them)."""
    label_width = max((len(label) for label, _ in bars), default=0)
    top = max((value for _, value in bars), default=0.0) or 1.0
    lines: list[RenderableType] = [Text(title, style=HEADING)]
    for label, value in bars:
        length = max(1, round(value / top * width)) if value > 0 else 0
        line = Text(f"  {label:<{label_width}}  ")
        line.append("█" * length, style=LATENCY)
        line.append(f" {_bar_value(value, unit)}")
        lines.append(line)
    return Group(*lines)


def _bar_value(value: float, unit: str) -> str:
    """A bar's value: a count agrees in number ("1 call", "2 calls"); a measure keeps its
    unit ("1 ms", "12 ms")."""
    if value == int(value) and unit.endswith("s") and unit not in ("ms", "µs", "s"):
        return plural(int(value), unit.removesuffix("s"))
    return f"{value:,.0f} {unit}"


#: Histogram buckets (upper bounds in µs) for call latencies.
_BUCKETS = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000, float("inf"))


def latency_histogram(records: Sequence[CallRecord], title: str) -> RenderableType:
    """How a step's round trips were distributed over latency buckets."""
    counts = [0] * len(_BUCKETS)
    for record in records:
        index = next(i for i, bound in enumerate(_BUCKETS) if record.latency_us < bound)
        counts[index] += 1
    labels = []
    lower = 0.0
    for bound in _BUCKETS:
        labels.append(f"≥ {latency(lower)}" if bound == float("inf") else f"< {latency(bound)}")
        lower = bound
    shown = [(label, count) for label, count in zip(labels, counts, strict=True) if count]
    summary = summarize(records)
    heading = (
        f"{title}: {plural(summary.round_trips, 'round trip')}, p50 {latency(summary.p50_us)}, "
        f"p99 {latency(summary.p99_us)}, max {latency(summary.max_us)}"
    )
    return bars_view(heading, "calls", [(label, float(count)) for label, count in shown])


def table_view(event: TableShown) -> Table:
    table = Table(title=event.title, title_justify="left")
    for index, column in enumerate(event.columns):
        # Numbers line up on the right; words read from the left.
        numeric = all(row[index][:1].isdigit() for row in event.rows if row[index])
        table.add_column(column, justify="right" if numeric and event.rows else "left")
    for row in event.rows:
        table.add_row(*row)
    return table


def pictures_view(event: PicturesShown) -> RenderableType:
    panels = [
        Panel(Text("\n".join(p.lines)), title=p.title, title_align="left", expand=False)
        for p in event.pictures
    ]
    return Group(
        Text(event.title, style=HEADING),
        Columns(panels, padding=(0, 1)),
        Text(event.legend, style=MUTED),
    )


def banner(module: Module, info: ServerInfo, choice: BackendChoice) -> RenderableType:
    body = Text()
    body.append(f"{module.title}\n", style=HEADING)
    body.append(f"{module.summary}\n\n")
    plan = " · ".join(f"{s.title} {s.minutes} min" for s in module.sections if not s.self_paced)
    body.append(f"Plan ({module.planned_minutes} min): {plan}\n", style=MUTED)
    extra = [s.title for s in module.sections if s.self_paced]
    if extra:
        body.append(f"Beyond the plan: {', '.join(extra)}\n", style=MUTED)
    body.append(f"Server: {info.description}\n")
    body.append(f"Backend: {choice.name} ({choice.reason})", style=MUTED)
    return Panel(body, title=f"valkey-workshop · {module.id}", title_align="left")


def actions_bar(actions: Sequence[tuple[str, str]], width: int = 80) -> Text:
    """The keys that work, ``[key] label`` after one another, breaking lines only between
    keys (never between a key and its label) to fit ``width``."""
    text = Text()
    used = 0
    for key, label in actions:
        size = len(key) + len(label) + 6
        if used and used + size > width:
            text.rstrip()
            text.append("\n")
            used = 0
        text.append(f" {key} ", style=KEY)
        text.append(f" {label}   ")
        used += size
    text.rstrip()
    return text


# -- hint, solution, reset --------------------------------------------------------------
def hint_view(reveal: HintReveal) -> RenderableType:
    title = f"Hint {reveal.number}/{reveal.total} · {reveal.step.label}"
    more = "" if reveal.last else "\n\n(ask again for the next hint)"
    return Panel(Markdown(reveal.text + more), title=title, title_align="left")


def solution_view(view: SolutionView, width: int = 80) -> RenderableType:
    """The reference solution and the learner's file: side by side when there is room."""
    parts: list[RenderableType] = []
    if view.forced:
        parts.append(
            Text(
                "Warning: this step has not passed yet; reading the solution first teaches less.",
                style=WARN,
            )
        )
    reference = Panel(
        Syntax(view.code, "python", line_numbers=True, word_wrap=True),
        title=f"Reference solution · {view.step.label}",
        title_align="left",
    )
    if view.learner_code is None:
        parts.append(reference)
        return Group(*parts)
    mine = Panel(
        Syntax(view.learner_code, "python", line_numbers=True, word_wrap=True),
        title=f"Your file · {view.learner_file.name}",
        title_align="left",
    )
    if width >= 140:
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        grid.add_row(reference, mine)
        parts.append(grid)
    else:
        parts.extend([reference, mine])
    return Group(*parts)


def reset_view(outcomes: Sequence[ResetOutcome]) -> RenderableType:
    lines = []
    for outcome in outcomes:
        if outcome.backup is None:
            lines.append(Text(f"restored {outcome.exercise} (it held the starter already)"))
        else:
            lines.append(
                Text(f"restored {outcome.exercise}; your version is kept at {outcome.backup}")
            )
    return Group(*lines)


# -- list, verify, doctor ---------------------------------------------------------------
_STATUS_TEXT = {
    "passed": ("✓ passed", PASS),
    "failed": ("✗ failed", FAIL),
    "skipped": ("» skipped", WARN),
    "not-started": ("· not started", MUTED),
}


def status_view(status: ModuleStatus) -> RenderableType:
    module = status.module
    table = Table(
        title=f"{module.id}: {module.title} ({module.planned_minutes} min)", title_justify="left"
    )
    for column in ("step", "title", "status", "attempts", "hints", "time"):
        table.add_column(column, no_wrap=column != "title")
    for entry in status.steps:
        label, style = _STATUS_TEXT[entry.progress.status]
        shown = Text(label, style=style)
        if entry.progress.status != "passed" and entry.progress.ever_passed:
            shown.append("\n  passed before", style=MUTED)
        table.add_row(
            entry.step.label,
            entry.step.title,
            shown,
            str(entry.progress.attempts),
            f"{entry.progress.hints_revealed}/{len(entry.step.hints)}",
            _duration(entry.progress.seconds_spent),
        )
    parts: list[RenderableType] = [table]
    nxt = status.next_step
    if nxt is not None:
        parts.append(
            Text(f"Next: {nxt.label}  ({naming.program()} start {module.id})", style=MUTED)
        )
    else:
        parts.append(Text("Every step is done.", style=PASS))
    return Group(*parts)


def _duration(total_seconds: float) -> str:
    minutes, secs = divmod(int(total_seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def summary_view(summary: ModuleSummary) -> RenderableType:
    """The end of a module (or where the learner stands): steps, attempts, time, extreme calls."""
    counts: dict[str, int] = {}
    for entry in summary.status.steps:
        counts[entry.progress.status] = counts.get(entry.progress.status, 0) + 1
    module = summary.status.module
    lines = [
        Text(
            f"{module.title}: {counts.get('passed', 0)} of {plural(len(module.steps), 'step')} "
            "passed, "
            f"{counts.get('skipped', 0)} skipped; {plural(summary.total_attempts, 'check')} run; "
            f"{_duration(summary.total_seconds)} spent.",
            style=HEADING,
        )
    ]
    if summary.slowest:
        step, call = summary.slowest
        lines.append(Text(f"Slowest call: {call.call} ({latency(call.latency_us)}, {step.label})"))
    if summary.fastest:
        step, call = summary.fastest
        lines.append(Text(f"Fastest call: {call.call} ({latency(call.latency_us)}, {step.label})"))
    if summary.complete:
        lines.append(Text("Module complete: every step passed or skipped.", style=PASS))
    title = "Module summary" if summary.complete else "Where you are"
    return Panel(Group(*lines), title=title, title_align="left")


def modules_view(entries: Sequence[ModuleEntry]) -> RenderableType:
    """Every module on the course roots and where it comes from; a broken one says why."""
    table = Table(title="Modules", title_justify="left")
    for column in ("module", "title", "steps", "minutes", "from"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        module = entry.module
        origin = f"{entry.place.root.origin}: {entry.place.folder}"
        if module is None:
            table.add_row(entry.place.id, Text("broken", style=FAIL), "", "", origin)
            continue
        broken = sum(step.problem is not None for step in module.steps)
        steps = str(len(module.steps)) + (f" ({broken} broken)" if broken else "")
        table.add_row(module.id, module.title, steps, str(module.planned_minutes), origin)
    return table


def verify_view(report: VerifyReport) -> RenderableType:
    table = Table(
        title=f"verify {report.module} on {report.server.description}", title_justify="left"
    )
    for column in ("step", "what", "result", "detail"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        mark = _mark(finding.ok) if finding.applicable else Text("n/a", style=MUTED)
        table.add_row(finding.step.label, finding.subject, mark, finding.detail)
    applicable = [f for f in report.findings if f.applicable]
    skipped = len(report.findings) - len(applicable)
    held = sum(f.ok for f in applicable)
    footer = Text(proofs_held(held, len(applicable)))
    if skipped:
        footer.append(f" ({skipped} not applicable on this server)", style=MUTED)
    footer.append(" in ")
    footer.append(seconds(report.seconds))
    footer.append("  ")
    footer.append_text(verdict(report.ok))
    return Group(table, footer)


def proofs_held(held: int, total: int) -> str:
    """``1 of 1 proof holds``, ``0 of 1 proofs hold``, ``3 of 5 proofs hold``."""
    if held == 1:
        return f"1 of {total} {'proof' if total == 1 else 'proofs'} holds"
    return f"{held} of {total} proofs hold"


def doctor_view(report: DoctorReport) -> RenderableType:
    table = Table(title="workshop doctor", title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    for item in report.items:
        # An optional item that is missing is a note, not a failure.
        mark = _mark(item.ok) if item.ok or item.required else Text("· optional", style=WARN)
        table.add_row(item.name, mark, item.detail)
    footer = Text(f"auto would pick: {report.auto_choice} ({report.auto_reason})")
    return Group(table, footer)


def show_pull(progress: Iterable[PullProgress]) -> None:
    """Show an image pull as it happens: one bar for all layers, and docker's own status."""
    console = err_console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("pulling", total=None)
        for step in progress:
            bar.update(
                task,
                description=f"{step.image}: {step.status}"[:60],
                completed=step.done_bytes,
                total=step.total_bytes or None,
            )
    console.print("Image pulled.")


# -- presenter --------------------------------------------------------------------------
def _clock(seconds_value: float) -> str:
    minutes, secs = divmod(int(seconds_value), 60)
    return f"{minutes}:{secs:02d}"


def section_timer_line(time: SectionTime) -> Text:
    """``⏱ 3:12 of 12:00 for this section`` (and a warning when over)."""
    text = Text("⏱ ", style=MUTED)
    if time.section.self_paced:
        text.append(
            f"{_clock(time.elapsed_seconds)} in this self-paced section (not in the timed plan)",
            style=MUTED,
        )
        return text
    text.append(
        f"{_clock(time.elapsed_seconds)} of {_clock(time.planned_seconds)} for this section",
        style=MUTED,
    )
    if time.over:
        text.append(f"  ⚠ over by {_clock(time.over_seconds)}", style=WARN)
    return text


def section_break(section: Section) -> RenderableType:
    return Panel(
        Text(
            f"Next section: {section.title} (self-paced, not timed)"
            if section.self_paced
            else f"Next section: {section.title} ({section.minutes} min)",
            style=HEADING,
        ),
        expand=False,
    )


def notes_view(text: str, title: str) -> RenderableType:
    return Panel(Markdown(text), title=title, title_align="left")
