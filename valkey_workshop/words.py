"""Words that depend on a number: "1 round trip", "2 round trips", "1 entry", "3 entries"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun`` agreeing in number (``many`` for irregular plurals)."""
    if count == 1:
        return f"{count} {noun}"
    if many is None:
        many = (
            f"{noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{noun}s"
        )
    return f"{count} {many}"
