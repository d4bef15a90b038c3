"""A live progress display for long runs of proofs (``verify``, ``check`` of many steps).

On a terminal: a Rich progress bar on stderr that counts finished proofs and names the last
one. Anywhere else (CI logs, pipes, tests): nothing live, so logs stay plain and stdout stays
exactly the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from valkey_workshop.render.console import err_console
from valkey_workshop.render.theme import MUTED

#: Tell the display one proof finished: (what it was, whether it held).
Advance = Callable[[str, bool], None]


@contextmanager
def proof_progress(total: int, what: str = "proofs") -> Iterator[Advance]:
    """Yield a function to call once per finished proof; draws a live bar on a terminal."""
    console = err_console()
    if not console.is_terminal or total <= 1:
        yield lambda _label, _ok: None
        return
    failed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}", style=MUTED),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total, last="")

        def advance(label: str, ok: bool) -> None:
            nonlocal failed
            failed += not ok
            description = f"{what} ({failed} failed)" if failed else what
            bar.update(task, advance=1, description=description, last=label[:40])

        yield advance
