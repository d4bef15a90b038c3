"""``workshop verify --mutants``: a table per step, then the score."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from valkey_workshop.render.format import seconds
from valkey_workshop.render.theme import FAIL, HEADING, MUTED, PASS, WARN
from valkey_workshop.results.mutants import MutantsReport
from valkey_workshop.words import plural

if TYPE_CHECKING:  # rendering never imports the mutation engine (pyproject: importlinter)
    from valkey_workshop.mutation.engine import MutantResult, StepMutants


def _outcome(result: MutantResult) -> Text:
    if result.outcome == "killed":
        return Text(f"✓ killed by {result.killed_by}", style=PASS)
    if result.outcome == "equivalent":
        return Text("= declared equivalent", style=WARN)
    return Text("✗ SURVIVED", style=FAIL)


def step_counts(step: StepMutants) -> str:
    """``40 mutants: 33 killed, 0 declared equivalent, 7 survived``."""
    return (
        f"{plural(len(step.results), 'mutant')}: {step.count('killed')} killed, "
        f"{step.count('equivalent')} declared equivalent, {step.count('survived')} survived"
    )


def step_line(step: StepMutants) -> Text:
    """One line per finished step (shown on stderr while the run goes on)."""
    text = Text(f"{step.step.label}: ")
    if step.error:
        text.append(f"not judged: {step.error}", style=FAIL)
        return text
    text.append(step_counts(step), style=PASS if step.ok else FAIL)
    text.append(f" in {seconds(step.seconds)}", style=MUTED)
    return text


#: From this width on, the operator has a column of its own (it always leads the mutant id).
OPERATOR_COLUMN_WIDTH = 110


def step_view(step: StepMutants, width: int = 80) -> RenderableType:
    """The table of one step's mutants, and what is wrong with its declarations."""
    title = f"{step.step.label}: {step_counts(step)}"
    if step.generated > len(step.results):
        title += f" (a stable selection of {step.generated})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    operators = width >= OPERATOR_COLUMN_WIDTH
    table.add_column("line", justify="right", no_wrap=True)
    if operators:
        table.add_column("operator", no_wrap=True)
    table.add_column("mutant id (operator:function:hash)", overflow="fold")
    table.add_column("outcome", overflow="fold")
    for result in step.results:
        mutant = Text(result.mutant.id)
        mutant.append(f"\n{result.mutant.description}", style=MUTED)
        cells: list[RenderableType] = [str(result.mutant.line)]
        if operators:
            cells.append(result.mutant.operator)
        table.add_row(*cells, mutant, _outcome(result))
    parts: list[RenderableType] = []
    if step.results:
        parts.append(table)
    else:
        parts.append(Text(title, style=HEADING))
    if step.error:
        parts.append(Text(f"✗ not judged: {step.error}", style=FAIL))
    for problem in step.problems:
        parts.append(Text(f"✗ [[equivalent_mutants]] {problem.id}: {problem.problem}", style=FAIL))
    for note in step.notes:
        parts.append(Text(f"· [[equivalent_mutants]] {note}", style=MUTED))
    footer = Text(
        f"time limit per mutant {seconds(step.time_limit_seconds)}; "
        f"{plural(step.discarded, 'edit')} gave no usable mutant; {seconds(step.seconds)}",
        style=MUTED,
    )
    parts.append(footer)
    return Group(*parts)


def mutants_view(report: MutantsReport, width: int = 80) -> RenderableType:
    """Every step's table, then the score and the verdict (``width``: the console's)."""
    parts: list[RenderableType] = [
        Text(f"verify {report.module} --mutants on {report.server.description}", style=HEADING)
    ]
    parts += [step_view(step, width) for step in report.steps]
    score = Text(
        f"{report.module}: {plural(report.total, 'mutant')}, {report.killed} killed, "
        f"{report.declared_equivalent} declared equivalent, {report.survived} survived: "
        f"score {report.score:.1%} in {seconds(report.seconds)}  "
    )
    stale = sum(len(step.problems) for step in report.steps)
    if stale:
        score.append(f"{plural(stale, 'declaration')} to fix  ", style=FAIL)
    score.append(Text("✓ PASS", style=PASS) if report.ok else Text("✗ FAIL", style=FAIL))
    parts.append(score)
    if report.survived:
        parts.append(
            Text(
                "A surviving mutant passes every check: make a check reject it, or, if it is "
                "still a right answer, declare it in step.toml ([[equivalent_mutants]] with "
                "its id and why).",
                style=MUTED,
            )
        )
    return Group(*parts)
