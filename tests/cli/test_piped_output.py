"""Output into a pipe carries no padding, and long text is paged only on a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import exit_status_of
from valkey_workshop.render.console import TrimmedLines


def _workshop(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valkey_workshop", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "100", **env},
    )


@pytest.mark.parametrize(
    "args", [("list",), ("list", "module3"), ("notes", "module3"), ("hint", "module3", "02")]
)
def test_piped_output_has_no_trailing_spaces(args: tuple[str, ...]) -> None:
    done = _workshop(*args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 3
    padded = [line for line in lines if line != line.rstrip()]
    assert not padded, padded[:3]
    assert not [line for line in done.stderr.splitlines() if line != line.rstrip()]


def test_trimming_keeps_a_line_still_being_written_and_colour_resets() -> None:
    target = io.StringIO()
    stream = TrimmedLines(target)
    stream.write("a table row   \x1b[0m\nsecond   ")
    assert target.getvalue() == "a table row\x1b[0m\n"
    stream.write("  \nPassword: ")
    stream.flush()  # a prompt keeps its space
    assert target.getvalue() == "a table row\x1b[0m\nsecond\nPassword: "


@pytest.mark.pty
def test_notes_are_paged_on_a_terminal_and_never_into_a_pipe(tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    pager = f"cat > {paged}"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "valkey_workshop", "notes", "module3"],
        env={**os.environ, "PAGER": pager, "TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "100"},
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 100),
    )
    assert exit_status_of(child) == 0
    text = paged.read_text(encoding="utf-8")
    assert len(text.splitlines()) > 200  # the whole notes went through the pager
    assert "module3" in text.lower() or "step" in text.lower()

    paged.unlink()
    piped = _workshop("notes", "module3", PAGER=pager)
    assert piped.returncode == 0
    assert not paged.exists()
    assert len(piped.stdout.splitlines()) > 200
