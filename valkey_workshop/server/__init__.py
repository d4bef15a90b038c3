"""Valkey servers for a session, behind one small interface (:class:`ServerBackend`).

The names below load on first use: importing :mod:`valkey_workshop.server.base` (what a
result type names) must not start importing every backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from valkey_workshop.server.base import ServerBackend, ServerInfo
    from valkey_workshop.server.resolve import BackendChoice, choose_backend, open_backend

__all__ = ["BackendChoice", "ServerBackend", "ServerInfo", "choose_backend", "open_backend"]


def __getattr__(name: str) -> Any:
    if name in ("ServerBackend", "ServerInfo"):
        from valkey_workshop.server import base  # noqa: PLC0415 - lazy on purpose (docstring)

        return getattr(base, name)
    if name in ("BackendChoice", "choose_backend", "open_backend"):
        from valkey_workshop.server import resolve  # noqa: PLC0415 - lazy on purpose (docstring)

        return getattr(resolve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
