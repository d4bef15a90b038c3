"""Valkey servers for a session, behind one small interface (:class:`ServerBackend`)."""

from valkey_workshop.server.base import ServerBackend, ServerInfo
from valkey_workshop.server.resolve import BackendChoice, choose_backend, open_backend

__all__ = ["BackendChoice", "ServerBackend", "ServerInfo", "choose_backend", "open_backend"]
