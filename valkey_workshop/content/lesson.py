"""Lessons that show the live server's own values instead of claims typed into the text.

A lesson may write ``{{config:maxmemory-samples}}`` or ``{{info:memory.used_memory_human}}``;
:func:`live_lesson` replaces each with the value the server reports right now (as inline code),
so a lesson about defaults shows this server's defaults. ``{{server:name}}`` names the server
(``Valkey 9.1.2``, ``Redis 7.0.15``), and ``{{supports:DELIFEQ}}`` or ``{{supports:SET IFEQ}}``
says ``yes`` or ``no`` for a command (or one of its options) on this server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from valkey_workshop.content import requirements

PLACEHOLDER = re.compile(
    r"\{\{\s*(config|info|server|supports):([A-Za-z0-9_.\-*]+(?: [A-Z0-9_\-]+)?)\s*\}\}"
)


class ServerReader(Protocol):
    def config_get(self, pattern: str) -> dict[str, str]: ...

    def info(self, section: str) -> dict[str, object]: ...

    def execute_command(self, *args: Any, **options: Any) -> Any: ...


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
        elif kind == "server":
            value = requirements.server_label(server) if name == "name" else None
        elif kind == "supports":
            value = "no" if requirements.unmet(server, [name]) else "yes"
        else:
            section, _, field = name.partition(".")
            value = server.info(section).get(field)
        return f"`{value}`" if value is not None else f"`(unknown: {name})`"

    return PLACEHOLDER.sub(fill, text)
