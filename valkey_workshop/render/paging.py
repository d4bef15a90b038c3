"""Markdown cut into pages between its blocks: a page never ends inside a paragraph, a bullet
or a table (its header stays with its rows), and a heading starts the page of what it heads.

Each block (a list item counts as one) is rendered on its own, so its lines are known; pages
are filled with whole blocks. A block taller than a page starts a page and is cut there (the
only way it fits at all).
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions
from rich.markdown import Markdown
from rich.segment import Segment

Line = list[Segment]

_LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass
class _Block:
    lines: list[Line]
    #: A blank line before it (not between two items of one list).
    gap: bool
    heading: bool


def _sources(text: str) -> list[tuple[str, bool, bool]]:
    """(source, gap before, is a heading) of each top-level block; a list gives its items."""
    lines = text.splitlines()
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)
    found: list[tuple[str, bool, bool]] = []
    in_list = False
    for token in tokens:
        if token.map is None or token.nesting == -1:
            continue
        if token.level == 0 and token.type in _LISTS:
            in_list = True
            first_item = True
            continue
        if token.level == 0:
            in_list = False
            start, end = token.map
            found.append(("\n".join(lines[start:end]), True, token.type == "heading_open"))
        elif in_list and token.level == 1 and token.type == "list_item_open":
            start, end = token.map
            found.append(("\n".join(lines[start:end]), first_item, False))
            first_item = False
    return found


def _blank(line: Line) -> bool:
    return not "".join(segment.text for segment in line).strip()


def _trimmed(lines: list[Line]) -> list[Line]:
    start, end = 0, len(lines)
    while start < end and _blank(lines[start]):
        start += 1
    while end > start and _blank(lines[end - 1]):
        end -= 1
    return lines[start:end]


def markdown_pages(
    console: Console, text: str, options: ConsoleOptions, height: int
) -> list[list[Line]]:
    """``text`` rendered at ``options``' width in pages of at most ``height`` lines."""
    height = max(1, height)
    blocks = [
        _Block(_trimmed(console.render_lines(Markdown(source), options, pad=False)), gap, heading)
        for source, gap, heading in _sources(text)
    ]
    blocks = [block for block in blocks if block.lines]
    pages: list[list[Line]] = []
    page: list[Line] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        unit = list(block.lines)
        following = index + 1
        # A heading goes with the block it heads.
        while block.heading and following < len(blocks):
            block = blocks[following]
            unit += [[], *block.lines] if block.gap else block.lines
            following += 1
            if not block.heading:
                break
        needed = len(unit) + (1 if page and blocks[index].gap else 0)
        if page and len(page) + needed > height:
            pages.append(page)
            page = []
        if page and blocks[index].gap:
            page.append([])
        for line in unit:
            if len(page) == height:
                pages.append(page)
                page = []
            if page or not _blank(line):
                page.append(line)
        index = following
    if page:
        pages.append(page)
    return pages
