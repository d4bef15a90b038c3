"""The one pager of lessons and trainer notes (learner session and presenter)."""

from __future__ import annotations

from valkey_workshop.interactive.pager import Pager


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
