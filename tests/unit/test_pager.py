"""The one pager of lessons and trainer notes (learner session and presenter)."""

from __future__ import annotations

import re

from rich.console import Console

from valkey_workshop.content import load_module
from valkey_workshop.interactive.pager import Pager
from valkey_workshop.render import views
from valkey_workshop.render.console import render_text


def shown(pager: Pager) -> object:
    """The page on screen (a call: mypy keeps no narrowing of it across the pager's moves)."""
    return pager.current


def test_a_pager_walks_forward_and_back_and_stays_inside_its_pages() -> None:
    pager = Pager()
    assert not pager.has_next and not pager.has_previous  # nothing opened yet
    assert pager.open(["one", "two", "three"]) == "one"
    assert (pager.position, pager.next_position) == ("1/3", "2/3")
    assert not pager.back() and pager.index == 0
    assert pager.forward() and pager.forward()
    assert shown(pager) == "three" and pager.at_last and not pager.has_next
    assert not pager.forward() and pager.position == "3/3"
    assert pager.back()
    assert shown(pager) == "two" and pager.has_previous
    assert pager.first() == "one"


def test_opening_another_text_starts_at_its_first_page() -> None:
    pager = Pager(["a", "b"])
    pager.forward()
    assert pager.open(["c"]) == "c" and pager.at_last and pager.count == 1


def _lesson_pages_text(slug: str, width: int, height: int) -> list[str]:
    step = load_module("module3").step(slug)
    console = Console(width=width, no_color=True, force_terminal=False)
    return [
        render_text(page, width)
        for page in views.lesson_pages(console, step.lesson.read_text(), height)
    ]


def test_lesson_pages_at_80x24_break_between_blocks() -> None:
    # 24 lines less the session's six (header, key bar): step 07 split a bullet and cut its
    # table's header from its rows.
    pages = _lesson_pages_text("lazyfree", 80, 18)
    assert len(pages) > 1
    (table_page,) = [page for page in pages if "lazyfree-lazy-eviction    evicting" in page]
    assert "setting" in table_page and "replica-lazy-flush" in table_page
    (unlink,) = [page for page in pages if "• UNLINK key" in page]
    assert "memory is freed" in unlink and "later." in unlink
    for slug in [step.slug for step in load_module("module3").steps]:
        for page in _lesson_pages_text(slug, 80, 18):
            lines = page.splitlines()
            assert len(lines) <= 18
            # A page never starts with the rest of a bullet (its text indented under "• ").
            assert not re.match(r" {3}\S", lines[0]), (slug, lines[0])
