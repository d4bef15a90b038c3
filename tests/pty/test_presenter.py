"""Presenter mode in a real pseudo-terminal: pages, the demo on a key, the lesson again, back,
notes, quit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import OwnServers
from tests.pty.test_guided_session import finish, shown, spawn

pytestmark = pytest.mark.pty

KEYS = shown("q quit")


def walk_to_next_step(child: pexpect.spawn, title: str, presses: int = 12) -> None:
    """Press space (page, page, ..., demo, next step) until ``title`` is on screen."""
    for _ in range(presses):
        child.send(" ")
        if child.expect([shown(title), KEYS], timeout=60) == 0:
            return
    raise AssertionError(f"{title!r} did not come after {presses} presses of space")


@pytest.mark.usefixtures("unrelated_valkey")
def test_paused_mode_continue_back_quit(hermetic: Path) -> None:
    servers = OwnServers()
    child = spawn("demo", "module3", "--db-latency", "0.05", workdir=hermetic)
    child.expect(shown("Step 01/09  Find the bottleneck"))
    child.expect(shown("⏱ 0:0"))
    child.expect(KEYS)
    assert len(servers.look()) == 1  # the demo's own server
    walk_to_next_step(child, "Next section: Caching strategies (10 min)")
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
    assert servers.leftover() == set()
    assert child.exitstatus == 0


def demo_at_80x24(hermetic: Path) -> pexpect.spawn:
    """``workshop demo module3`` in an 80x24 terminal, sized by the terminal alone."""
    env = {
        **os.environ,
        "WORKSHOP_WORKDIR": str(hermetic),
        "WORKSHOP_BACKEND": "embedded",
        "NO_COLOR": "1",
        "TERM": "xterm",
    }
    for name in ("COLUMNS", "LINES"):  # the terminal's own size, as a trainer's laptop has it
        env.pop(name, None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "valkey_workshop", "demo", "module3", "--db-latency", "0.05"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 80),
    )


def test_at_80x24_the_lesson_pages_the_demo_waits_and_l_brings_the_lesson_back(
    hermetic: Path,
) -> None:
    child = demo_at_80x24(hermetic)
    # The first page: the lesson's first heading, and no demo yet.
    child.expect(shown("The bottleneck"))
    child.expect(shown("(lesson page 1/"))
    first_screen = child.before
    child.expect(shown("space page 2/"))
    child.expect(KEYS)
    assert "Live demo" not in first_screen + child.before
    # Page on until the space bar offers the demo, then run it by key.
    for _ in range(6):
        child.send(" ")
        if child.expect([shown("space demo"), shown("space page")]) == 0:
            break
    child.expect(KEYS)
    child.send(" ")
    child.expect(shown("Live demo · 01 bottleneck"))
    child.expect(shown("✓ demo 01 bottleneck ran"))
    child.expect(shown("space next step"))
    child.expect(KEYS)
    # The lesson scrolled away; l shows its first page again.
    child.send("l")
    child.expect(shown("The bottleneck"))
    child.expect(shown("(lesson page 1/"))
    child.expect(KEYS)
    # b does nothing on the first step, so it is not offered.
    assert shown("b back") not in child.before
    child.send("q")
    child.expect("End of the demo.")
    assert finish(child) == 0


def test_at_80x24_trainer_notes_page_too_and_no_key_press_is_lost(hermetic: Path) -> None:
    child = demo_at_80x24(hermetic)
    child.expect(shown("(lesson page 1/"))
    child.expect(KEYS)
    # A clicker pressed twice quickly: both presses count, none is lost while drawing.
    child.send("  ")
    child.expect(shown("(lesson page 3/"))
    child.expect(KEYS)
    # Step 01's notes take several screens at 80x24: the first, then space for the next.
    child.send("n")
    child.expect(shown("Trainer notes · 01 bottleneck (1/"))
    child.expect(shown("space notes 2/"))
    child.expect(KEYS)
    child.send(" ")
    child.expect(shown("Trainer notes · 01 bottleneck (2/"))
    child.expect(KEYS)
    # Another key leaves the notes; space then walks the lesson again.
    child.send("l")
    child.expect(shown("(lesson page 1/"))
    child.expect(shown("space page 2/"))
    child.expect(KEYS)
    child.send("q")
    child.expect("End of the demo.")
    assert finish(child) == 0


def test_a_clicker_s_page_keys_walk_and_go_back(hermetic: Path) -> None:
    child = spawn("demo", "module3", "--db-latency", "0.05", workdir=hermetic)
    child.expect(shown("(lesson page 1/"))
    child.expect(KEYS)
    child.send("\x1b[6~")  # PageDown, as a presenter's clicker sends it
    child.expect(shown("(lesson page 2/"))
    child.expect(shown("b page back"))
    child.expect(KEYS)
    child.send("\x1b[D")  # Left arrow: back one page while the lesson is being read
    child.expect(shown("(lesson page 1/"))
    child.expect(KEYS)
    child.send("x")
    child.expect(shown("Key 'x' does nothing here."))
    child.send("q")
    assert finish(child) == 0
