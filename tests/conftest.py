"""Shared fixtures. Every test is hermetic: user state goes to a temporary workdir, colour and
width are fixed, and no test reads the developer's environment choices."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from valkey_workshop.content import Module, load_module
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.embedded import EmbeddedBackend

#: Terminal width every rendered assertion uses.
WIDTH = 100

_CLEARED = (
    "WORKSHOP_BACKEND",
    "VALKEY_URL",
    "WORKSHOP_IMAGE",
    "WORKSHOP_LABS_DIR",
    "WORKSHOP_DOCKER_NETWORK",
    "FORCE_COLOR",
    "TERM",
)


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One variable (WORKSHOP_WORKDIR) redirects all user state into the test's tmp dir."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "workdir"
    monkeypatch.setenv("WORKSHOP_WORKDIR", str(workdir))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.chdir(tmp_path)
    return workdir


@pytest.fixture(scope="session")
def server() -> Iterator[ServerInfo]:
    """One real embedded Valkey for the tests that only need a server."""
    with EmbeddedBackend() as info:
        yield info


@pytest.fixture(scope="session")
def module3() -> Module:
    return load_module("module3")


def valkey_server_pids() -> set[int]:
    """PIDs of every running valkey-server process (read from /proc, no extra packages)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("valkey-server"):
            pids.add(int(entry.name))
    return pids


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    # A zombie has exited; only its entry is left for the parent to collect.
    return not (status.exists() and status.read_text().split()[2] == "Z")
