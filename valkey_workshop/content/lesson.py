"""Lessons that show the live server's own values instead of claims typed into the text.

A lesson may write ``{{config:maxmemory-samples}}`` or ``{{info:memory.used_memory_human}}``;
:func:`live_lesson` replaces each with the value the server reports right now (as inline code),
so a lesson about defaults shows this server's defaults.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

PLACEHOLDER = re.compile(r"\{\{\s*(config|info):([A-Za-z0-9_.\-*]+)\s*\}\}")


class ServerReader(Protocol):
    def config_get(self, pattern: str) -> dict[str, str]: ...

    def info(self, section: str) -> dict[str, object]: ...


def live_lesson(path: Path, server: ServerReader | None) -> str:
    """The lesson's Markdown with every placeholder filled from ``server``.

    Without a server, placeholders read ``(live: NAME)`` so the text still makes sense.
    """
    text = path.read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if server is None:
            return f"`(live: {name})`"
        value: object
        if kind == "config":
            value = server.config_get(name).get(name)
        else:
            section, _, field = name.partition(".")
            value = server.info(section).get(field)
        return f"`{value}`" if value is not None else f"`(unknown: {name})`"

    return PLACEHOLDER.sub(fill, text)
