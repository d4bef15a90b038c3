"""The backend interface: start a server, say how to reach it, stop it on every exit path."""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

import valkey


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running server.

    ``url`` carries the password and is only ever handed to clients (and to the checking
    process through a pipe, never its command line); ``display_url`` is safe to print.
    ``private`` is True for a server the workshop started itself (only it knows the password,
    so every key on it is the workshop's); ``restart`` starts such a server again at the same
    URL after learner code stopped it (None: a server we must not restart).
    """

    backend: str
    url: str
    version: str
    description: str
    private: bool = False
    restart: Callable[[], ServerInfo] | None = field(default=None, compare=False, repr=False)

    @property
    def display_url(self) -> str:
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal goes back into brackets
        host = f"[{host}]"
    netloc = f"{user}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def server_version(client: valkey.Valkey) -> str:
    """The server's version from ``INFO server`` (Valkey reports ``valkey_version``)."""
    info = client.info("server")
    return str(info.get("valkey_version") or info.get("redis_version") or "unknown")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (on this machine). Another user's process counts as
    alive: it is not ours to judge. Never signals anything (``os.kill(pid, 0)`` would end the
    process on Windows, so Windows asks the kernel instead)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _windows_process_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes  # noqa: PLC0415 - Windows only

    kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 - windll exists on Windows only
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: exists, not ours
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def ping_version(url: str) -> str | None:
    """One authenticated PING to ``url``: the server's version once it answers, else None
    (not listening yet, or still loading). Backends call it until their deadline."""
    return ping_or_why(url)[0]


def ping_or_why(url: str) -> tuple[str | None, str | None]:
    """:func:`ping_version`, and why it got no answer (the connect error, say) when it got
    none: (version, None) or (None, reason)."""
    client = valkey.Valkey.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return server_version(client), None
    except (valkey.ConnectionError, valkey.TimeoutError, valkey.BusyLoadingError) as error:
        return None, (str(error).strip() or type(error).__name__).splitlines()[0]
    finally:
        client.close()


#: What a Valkey (or Redis) server logs once it listens.
READY_LINE = "Ready to accept connections"
#: How long a server whose log says it is ready may go on refusing connections before the
#: connect error is the answer (not a time-out beside a log that says "ready").
READY_GRACE_SECONDS = 2.0


class ServerBackend(ABC):
    """A way to get a Valkey server for a session.

    Use as a context manager: the server is stopped when the block ends, whether it ends
    normally, through an exception or through Ctrl-C.
    """

    name: ClassVar[str]

    @abstractmethod
    def start(self) -> ServerInfo:
        """Start (or reach) the server and wait until it answers an authenticated PING.

        Raises:
            ServerError: the server could not be started or reached.
        """

    @abstractmethod
    def stop(self) -> None:
        """Stop what :meth:`start` started; safe to call twice or before ``start``."""

    def __enter__(self) -> ServerInfo:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
