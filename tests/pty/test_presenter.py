"""Presenter mode in a real pseudo-terminal: continue, back, notes, quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import valkey_server_pids
from tests.pty.test_guided_session import finish, shown, spawn

pytestmark = pytest.mark.pty

KEYS = shown("q quit")


def test_paused_mode_continue_back_quit(hermetic: Path) -> None:
    before = valkey_server_pids()
    child = spawn("demo", "module3", "--db-latency", "0.05", workdir=hermetic)
    child.expect(shown("Step 01/09  Find the bottleneck"))
    child.expect(shown("⏱ 0:0"))
    child.expect(KEYS)
    child.send(" ")
    child.expect(shown("Next section: Caching strategies (10 min)"))
    child.expect(shown("Step 02/09  Cache-aside"))
    child.expect(KEYS)
    child.send("n")
    child.expect(shown("Trainer notes · 02 cache-aside"))
    child.expect(KEYS)
    child.send("b")
    child.expect(shown("Step 01/09  Find the bottleneck"))
    child.expect(KEYS)
    child.send("q")
    child.expect("End of the demo.")
    assert finish(child) == 0
    assert valkey_server_pids() <= before
    assert child.exitstatus == 0
