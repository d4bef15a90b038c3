"""A use case's messages, each on its stream (results on stdout, status on stderr)."""

from __future__ import annotations

from collections.abc import Iterable

from valkey_workshop.render.console import message, status
from valkey_workshop.results.envelope import Message, Position


def say(messages: Iterable[Message], position: Position | None = None) -> None:
    """Show ``messages`` in order (only those at ``position`` when it is given)."""
    for item in messages:
        if position is not None and item.position != position:
            continue
        if item.stream == "stdout":
            message(item.line)
        else:
            status(item.line)
