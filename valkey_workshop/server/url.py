"""The url backend: a server someone else runs (``valkey://``, ``valkeys://`` for TLS)."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

import valkey

from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend, ServerInfo, redact_url, server_version

SCHEMES = ("valkey", "valkeys", "redis", "rediss")


class UrlBackend(ServerBackend):
    """Reaches an existing server; starts and stops nothing."""

    name: ClassVar[str] = "url"

    def __init__(self, url: str, connect_timeout: float = 3.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise UsageError(
                f"--url {redact_url(url)!r} is not a Valkey URL; "
                "use valkey://[:password@]host:port[/db] (valkeys:// for TLS)."
            )
        self._url = url
        self._connect_timeout = connect_timeout

    def start(self) -> ServerInfo:
        shown = redact_url(self._url)
        client = valkey.Valkey.from_url(
            self._url,
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=self._connect_timeout,
        )
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
        finally:
            client.close()
        parts = urlsplit(self._url)
        tls = " over TLS" if parts.scheme.endswith("s") else ""
        return ServerInfo(
            backend=self.name,
            url=self._url,
            version=version,
            description=f"{product} {version} at {parts.hostname}:{parts.port or 6379}{tls}",
        )

    def stop(self) -> None:
        """Nothing to stop: the server is not ours."""
