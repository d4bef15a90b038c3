"""The url backend: a server someone else runs (``valkey://``, ``valkeys://`` for TLS)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import valkey

from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend, ServerInfo, redact_url, server_version

SCHEMES = ("valkey", "valkeys", "redis", "rediss")
_FORM = "use valkey://[:password@]host:port[/db] (valkeys:// for TLS)"


@dataclass(frozen=True)
class ParsedUrl:
    """The parts of a server URL this tool relies on, checked."""

    host: str
    port: int
    db: int
    tls: bool


def _shown(url: str) -> str:
    # redact_url needs a valid port; this one hides a password in any URL, valid or not.
    return re.sub(r"^([^:/]*://[^:@/]*:)[^@/]*@", r"\1***@", url)


def parse_url(url: str) -> ParsedUrl:
    """Check a ``--url`` / ``VALKEY_URL`` before anything connects.

    Raises:
        UsageError: unknown scheme, no host, a port that is not 1-65535, or a database that
            is not a number (valkey-py would silently use database 0 for ``/notanumber``).
    """
    shown = _shown(url)
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. "valkey://[::1": an unclosed IPv6 address
        raise UsageError(f"--url {shown!r} is not a Valkey URL ({error}); {_FORM}.") from error
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise UsageError(f"--url {shown!r} is not a Valkey URL; {_FORM}.")
    try:
        given = parts.port
    except ValueError:  # not a number, or beyond 65535
        given = 0
    port = 6379 if given is None else given
    if not 1 <= port <= 65535:
        raise UsageError(f"--url {shown!r}: the port must be a number from 1 to 65535.")
    path = parts.path.strip("/")
    databases = parse_qs(parts.query).get("db", [])
    candidates = ([path] if path else []) + databases
    for candidate in candidates:
        if not (candidate.isascii() and candidate.isdigit()):
            raise UsageError(
                f"--url {shown!r}: the database {candidate!r} is not a number; {_FORM}."
            )
    db = int(candidates[-1]) if candidates else 0
    return ParsedUrl(parts.hostname, port, db, tls=parts.scheme.endswith("s"))


def _first_line(error: BaseException) -> str:
    text = (str(error).strip() or type(error).__name__).splitlines()[0]
    return text if len(text) <= 120 else text[:117] + "..."


class UrlBackend(ServerBackend):
    """Reaches an existing server; starts and stops nothing."""

    name: ClassVar[str] = "url"

    def __init__(self, url: str, connect_timeout: float = 3.0) -> None:
        self._parsed = parse_url(url)
        self._url = url
        self._connect_timeout = connect_timeout

    def start(self) -> ServerInfo:
        shown = redact_url(self._url)
        try:
            client = valkey.Valkey.from_url(
                self._url,
                socket_connect_timeout=self._connect_timeout,
                socket_timeout=self._connect_timeout,
            )
        except ValueError as error:  # a query option valkey-py cannot read, e.g. ?socket_timeout=x
            raise UsageError(f"--url {shown!r}: {str(error).rstrip('.')}.") from error
        try:
            client.ping()
            version = server_version(client)
            # Say which product answered: a Redis server is not a Valkey one.
            product = "Valkey" if "valkey_version" in client.info("server") else "Redis"
        except valkey.AuthenticationError as error:
            if urlsplit(self._url).password is None:
                raise ServerError(
                    f"The server at {shown} needs a password: valkey://:PASSWORD@host:port"
                ) from error
            raise ServerError(f"The server at {shown} refused the credentials: {error}") from error
        except valkey.ResponseError as error:
            if "NOAUTH" in str(error):
                raise ServerError(
                    f"The server at {shown} needs a password: valkey://:PASSWORD@host:port"
                ) from error
            raise ServerError(f"The server at {shown} answered with an error: {error}") from error
        except (valkey.ConnectionError, valkey.TimeoutError) as error:
            raise ServerError(f"Cannot reach Valkey at {shown}: {error}") from error
        except valkey.ValkeyError as error:
            # Something answered, but not in Valkey's protocol (an HTTP server, say).
            raise ServerError(
                f"The server at {shown} does not speak Valkey's protocol ({_first_line(error)}): "
                "is it a Valkey server, and is this its port?"
            ) from error
        finally:
            client.close()
        parsed = self._parsed
        tls = " over TLS" if parsed.tls else ""
        return ServerInfo(
            backend=self.name,
            url=self._url,
            version=version,
            description=f"{product} {version} at {parsed.host}:{parsed.port}{tls}",
        )

    def stop(self) -> None:
        """Nothing to stop: the server is not ours."""
