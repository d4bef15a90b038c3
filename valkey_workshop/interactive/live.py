"""The session's live server, kept in one place.

The server guard restarts a server of ours that stopped under a learner's code, and a
restarted container may listen on a new port; the guard knows the server as it runs now.
Everything in a session asks this object for the server when it needs it, instead of keeping
a copy that goes stale.
"""

from __future__ import annotations

from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import guard_for


class LiveServer:
    """The server of a session as it runs now (after any restart by its guard)."""

    def __init__(self, started: ServerInfo) -> None:
        self._guard = guard_for(started)

    @property
    def info(self) -> ServerInfo:
        return self._guard.server

    @property
    def url(self) -> str:
        return self.info.url
