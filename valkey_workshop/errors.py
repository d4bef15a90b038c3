"""Errors the command line turns into one clear line and exit code 2.

Anything raised from the core that a user can cause (a typo in a step name, an unreachable
server, a broken lab file) is a :class:`WorkshopError`; anything else is a bug and may show a
traceback.
"""

from __future__ import annotations


class WorkshopError(Exception):
    """A problem the user can fix; the CLI prints ``str(error)`` and exits 2."""


class UsageError(WorkshopError):
    """Unknown module, unknown step, bad option value."""


class ContentError(WorkshopError):
    """Lab content that does not match the lab format; the message names the file."""


class ServerError(WorkshopError):
    """A Valkey server could not be started or reached."""
