"""Presenter mode in a real pseudo-terminal: continue, back, notes, quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import OwnServers
from tests.pty.test_guided_session import finish, shown, spawn

pytestmark = pytest.mark.pty

KEYS = shown("q quit")


@pytest.mark.usefixtures("unrelated_valkey")
def test_paused_mode_continue_back_quit(hermetic: Path) -> None:
    servers = OwnServers()
    child = spawn("demo", "module3", "--db-latency", "0.05", workdir=hermetic)
    child.expect(shown("Step 01/08  Find the bottleneck"))
    child.expect(shown("⏱ 0:0"))
    child.expect(KEYS)
    assert len(servers.look()) == 1  # the demo's own server
    child.send(" ")
    child.expect(shown("Next section: Caching strategies (10 min)"))
    child.expect(shown("Step 02/08  Cache-aside"))
    child.expect(KEYS)
    child.send("n")
    child.expect(shown("Trainer notes · 02 cache-aside"))
    child.expect(KEYS)
    child.send("b")
    child.expect(shown("Step 01/08  Find the bottleneck"))
    child.expect(KEYS)
    child.send("q")
    child.expect("End of the demo.")
    assert finish(child) == 0
    assert servers.leftover() == set()
    assert child.exitstatus == 0
