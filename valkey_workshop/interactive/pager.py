"""One pager for every long text on screen: a lesson or the trainer notes, a page at a time
(the learner's session and the presenter both page with it)."""

from __future__ import annotations

from collections.abc import Sequence


class Pager:
    """The pages of one text (Rich renderables) and which one is on screen."""

    def __init__(self, pages: Sequence[object] = ()) -> None:
        self.pages: Sequence[object] = pages
        self.index = 0

    def open(self, pages: Sequence[object]) -> object:
        """Page a new text from its first page; that page."""
        self.pages = pages
        self.index = 0
        return self.current

    @property
    def current(self) -> object:
        return self.pages[self.index]

    @property
    def count(self) -> int:
        return len(self.pages)

    @property
    def position(self) -> str:
        """``2/5``: the page on screen, of how many."""
        return f"{self.index + 1}/{self.count}"

    @property
    def next_position(self) -> str:
        """``3/5``: the page a forward step shows."""
        return f"{self.index + 2}/{self.count}"

    @property
    def has_next(self) -> bool:
        return self.index + 1 < self.count

    @property
    def at_last(self) -> bool:
        return self.index + 1 >= self.count

    @property
    def has_previous(self) -> bool:
        return self.index > 0

    def first(self) -> object:
        """Back to the first page; that page."""
        self.index = 0
        return self.current

    def forward(self) -> bool:
        """One page on; False (staying put) on the last page."""
        if not self.has_next:
            return False
        self.index += 1
        return True

    def back(self) -> bool:
        """One page back; False (staying put) on the first page."""
        if not self.has_previous:
            return False
        self.index -= 1
        return True
