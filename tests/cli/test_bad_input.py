"""Bad input is one clear line and exit code 2, never a traceback; Ctrl-C is exit 130.

The matrix runs the command line in-process (Typer's CliRunner, as tests/cli/test_cli.py does:
any exception but an exit would be a traceback). What Python prints outside Typer (an import
interrupted by Ctrl-C, an encoding error) is seen through the real console entry point in a
subprocess (``python -m valkey_workshop``), as a learner would see it.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module
from valkey_workshop.render.console import MAX_WIDTH
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.session.progress import PROGRESS_FILE

MODULE = load_module("module3")


def workshop(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valkey_workshop", *args],
        env={**os.environ, "WORKSHOP_BACKEND": "embedded", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# -- the bad-input matrix ----------------------------------------------------------------
def _a_file(tmp: Path, workdir: Path) -> None:
    (tmp / "afile").write_text("not a folder\n")


def _fifo_progress(tmp: Path, workdir: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    workdir.mkdir(parents=True, exist_ok=True)
    os.mkfifo(workdir / PROGRESS_FILE)  # reading it would wait for a writer for ever


def _module_folder_is_a_file(tmp: Path, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "module3").write_text("my notes\n")


def _folder_progress(tmp: Path, workdir: Path) -> None:
    (workdir / PROGRESS_FILE).mkdir(parents=True)


def _exercise_links_outside(tmp: Path, workdir: Path) -> None:
    (workdir / "module3").mkdir(parents=True)
    (workdir / "module3" / "02_cache_aside.py").symlink_to(tmp / "outside.py")


def _exercise_is_a_fifo(tmp: Path, workdir: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    (workdir / "module3").mkdir(parents=True)
    os.mkfifo(workdir / "module3" / "02_cache_aside.py")  # reading it waits for ever


def _exercise_links_to_a_fifo(tmp: Path, workdir: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    (workdir / "module3").mkdir(parents=True)
    os.mkfifo(workdir / "module3" / "pipe")
    (workdir / "module3" / "02_cache_aside.py").symlink_to("pipe")


def _exercise_is_a_link_loop(tmp: Path, workdir: Path) -> None:
    (workdir / "module3").mkdir(parents=True)
    (workdir / "module3" / "02_cache_aside.py").symlink_to("02_cache_aside.py")


Setup = Callable[[Path, Path], None] | None
LONG = "a" * 300
#: More digits than int() converts (4,300): a ValueError traceback once.
DIGITS_5000 = "1" * 5000

#: (row id, arguments with {tmp} for the test's folder and {url} for a live server's URL,
#: extra environment, setup)
ROWS: list[tuple[str, tuple[str, ...], dict[str, str], Setup]] = [
    *[
        (
            f"workdir-is-a-file-{command}",
            (command, "module3", *step, "--workdir", "{tmp}/afile"),
            {},
            _a_file,
        )
        for command, step in (
            ("hint", ("01",)),
            ("skip", ("01",)),
            ("reset", ("01",)),
            ("list", ()),
            ("check", ("01",)),
            ("solution", ("01",)),
        )
    ],
    ("workdir-no-such-user", ("list", "module3", "--workdir", "~nosuchuser/x"), {}, None),
    (
        "workdir-env-no-such-user",
        ("hint", "module3", "01"),
        {"WORKSHOP_WORKDIR": "~nosuchuser"},
        None,
    ),
    ("workdir-300-characters", ("hint", "module3", "01", "--workdir", f"{{tmp}}/{LONG}"), {}, None),
    ("workdir-300-characters-list", ("list", "module3", "--workdir", f"{{tmp}}/{LONG}"), {}, None),
    ("url-port-99999", ("check", "module3", "01", "--url", "valkey://127.0.0.1:99999"), {}, None),
    ("url-port-abc", ("check", "module3", "01", "--url", "valkey://127.0.0.1:abc"), {}, None),
    ("url-port-0", ("check", "module3", "01", "--url", "valkey://127.0.0.1:0"), {}, None),
    (
        "url-db-not-a-number",
        # A live server: without the check, valkey-py would quietly use database 0.
        ("check", "module3", "01", "--url", "{url}/notanumber"),
        {},
        None,
    ),
    (
        "url-db-query-not-a-number",
        ("check", "module3", "01", "--url", "{url}?db=x"),
        {},
        None,
    ),
    ("url-unknown-scheme", ("check", "module3", "01", "--url", "http://127.0.0.1:6379"), {}, None),
    ("url-empty-host", ("check", "module3", "01", "--url", "valkey://:6379"), {}, None),
    ("url-unclosed-ipv6", ("check", "module3", "01", "--url", "valkey://[::1"), {}, None),
    (
        "url-bad-option",
        ("check", "module3", "01", "--url", "valkey://127.0.0.1:1?socket_timeout=x"),
        {},
        None,
    ),
    (
        "url-env-port",
        ("check", "module3", "01"),
        {"WORKSHOP_BACKEND": "", "VALKEY_URL": "valkey://h:99999"},
        None,
    ),
    ("time-limit-inf", ("check", "module3", "01", "--time-limit", "inf"), {}, None),
    ("time-limit-1e300", ("check", "module3", "01", "--time-limit", "1e300"), {}, None),
    ("time-limit-0", ("check", "module3", "01", "--time-limit", "0"), {}, None),
    ("time-limit-negative", ("check", "module3", "01", "--time-limit=-1"), {}, None),
    ("time-limit-nan", ("check", "module3", "01", "--time-limit", "nan"), {}, None),
    ("junit-xml-is-a-folder", ("check", "module3", "01", "--junit-xml", "{tmp}"), {}, None),
    (
        "junit-xml-under-a-file",
        ("check", "module3", "01", "--junit-xml", "{tmp}/afile/r.xml"),
        {},
        _a_file,
    ),
    (
        "junit-xml-onto-an-exercise",
        ("check", "module3", "01", "--workdir", "{tmp}/w", "--junit-xml", "{tmp}/w/module3/x.py"),
        {},
        None,
    ),
    (
        "junit-xml-onto-progress",
        (
            "check",
            "module3",
            "01",
            "--workdir",
            "{tmp}/w",
            "--junit-xml",
            "{tmp}/w/.workshop-progress.json",
        ),
        {},
        None,
    ),
    (
        "image-invalid",
        ("check", "module3", "01", "--backend", "docker", "--image", ":::bad"),
        {},
        None,
    ),
    ("image-env-invalid", ("doctor",), {"WORKSHOP_IMAGE": ":::bad"}, None),
    ("unknown-module", ("check", "module9"), {}, None),
    ("unknown-step", ("hint", "module3", "nope"), {}, None),
    ("unknown-step-number", ("reset", "module3", "99999999999999999999"), {}, None),
    ("jobs-zero", ("verify", "module3", "-j", "0"), {}, None),
    ("jobs-negative", ("verify", "module3", "--jobs", "-3"), {}, None),
    ("step-5000-digits-hint", ("hint", "module3", DIGITS_5000), {}, None),
    ("step-5000-digits-check", ("check", "module3", DIGITS_5000), {}, None),
    ("step-unicode-digit", ("hint", "module3", "²"), {}, None),
    ("hint-number-5000-digits", ("hint", "module3", "01", DIGITS_5000), {}, None),
    ("reset-a-fifo", ("reset", "module3", "cache-aside"), {}, _exercise_is_a_fifo),
    ("reset-a-link-to-a-fifo", ("reset", "module3", "cache-aside"), {}, _exercise_links_to_a_fifo),
    ("reset-a-link-loop", ("reset", "module3", "cache-aside"), {}, _exercise_is_a_link_loop),
    ("check-a-link-loop", ("check", "module3", "cache-aside"), {}, _exercise_is_a_link_loop),
    ("unknown-backend", ("check", "module3", "--backend", "podman"), {}, None),
    ("rtt-not-a-duration", ("demo", "module3", "01", "--no-pause", "--rtt", "abc"), {}, None),
    ("db-latency-nan", ("demo", "module3", "01", "--no-pause", "--db-latency", "nan"), {}, None),
    ("module-folder-is-a-file", ("check", "module3", "01"), {}, _module_folder_is_a_file),
    ("progress-is-a-fifo", ("list", "module3"), {}, _fifo_progress),
    ("progress-is-a-fifo-hint", ("hint", "module3", "01"), {}, _fifo_progress),
    ("progress-is-a-folder", ("skip", "module3", "01"), {}, _folder_progress),
    (
        "reset-through-a-link-outside",
        ("reset", "module3", "cache-aside"),
        {},
        _exercise_links_outside,
    ),
    (
        "solution-through-a-link-outside",
        ("solution", "module3", "cache-aside", "--force"),
        {},
        _exercise_links_outside,
    ),
]


@pytest.mark.parametrize(
    ("args", "env", "setup"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...],
    env: dict[str, str],
    setup: Setup,
    hermetic: Path,
    tmp_path: Path,
    server: ServerInfo,
) -> None:
    if setup is not None:
        setup(tmp_path, hermetic)
    result = CliRunner().invoke(
        app,
        [arg.replace("{tmp}", str(tmp_path)).replace("{url}", server.url) for arg in args],
        env={"WORKSHOP_BACKEND": "embedded", **env},
    )
    # Anything but an exit is an exception the learner would see as a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1, result.stderr  # one line that says what is wrong
    assert not (tmp_path / "outside.py").exists()  # nothing was written through a link


# -- progress with values it never writes ----------------------------------------------------
def test_list_with_infinity_in_progress_warns_and_starts_afresh(hermetic: Path) -> None:
    hermetic.mkdir()
    (hermetic / PROGRESS_FILE).write_text(
        '{"format_version": 1, "modules": {"module3": {"eviction": {"seconds_spent": Infinity,'
        ' "status": "passed"}}}}'
    )
    result = CliRunner().invoke(app, ["list", "module3"])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Warning: Progress file" in result.stderr and "moved to" in result.stderr
    assert "Next: 01 bottleneck" in result.stdout
    assert len(list(hermetic.glob(f"{PROGRESS_FILE}.corrupt-*"))) == 1


# -- a console that cannot show the symbols ------------------------------------------------
def test_an_ascii_console_gets_ascii_symbols(hermetic: Path) -> None:
    env = {"PYTHONIOENCODING": "ascii"}
    listing = workshop("list", "module3", env=env)
    assert listing.returncode == 0, listing.stderr
    assert "not started" in listing.stdout and "Next: 01 bottleneck" in listing.stdout
    checked = workshop("check", "module3", "01", env=env)
    assert checked.returncode == 1, checked.stderr
    assert "01 bottleneck  Find the bottleneck  x FAIL" in checked.stdout
    for result in (listing, checked):
        assert "Traceback" not in result.stderr
        assert result.stdout.isascii() and result.stderr.isascii()


# -- a read-only workdir -------------------------------------------------------------------
def _read_only(workdir: Path) -> list[str]:
    """A command prefix under which ``workdir`` cannot be written, even by root."""
    if os.geteuid() != 0:
        workdir.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return []
    unshare = shutil.which("unshare")
    probe = [unshare, "--mount", "true"] if unshare else None
    if probe is None or subprocess.run(probe, capture_output=True, check=False).returncode:
        pytest.skip("running as root without mount namespaces: no way to make a folder read-only")
    assert unshare is not None
    # A private mount namespace: the read-only bind mount exists for this command only.
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && shift && exec "$@"'
    return [unshare, "--mount", "sh", "-c", script, str(workdir), "_"]


def test_a_read_only_workdir_shows_the_verdict_then_says_progress_was_not_saved(
    hermetic: Path,
) -> None:
    exercise = hermetic / "module3" / "01_bottleneck.py"
    exercise.parent.mkdir(parents=True)
    shutil.copyfile(MODULE.step("bottleneck").solution, exercise)
    # Every exercise exists: check creates nothing, it only records the result.
    for step in MODULE.steps:
        target = hermetic / "module3" / step.exercise_filename
        if not target.exists():
            shutil.copyfile(step.starter, target)
    prefix = _read_only(hermetic)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "valkey_workshop", "check", "module3", "01"],
            env={**os.environ, "WORKSHOP_BACKEND": "embedded"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        hermetic.chmod(0o755)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "01 bottleneck  Find the bottleneck  ✓ PASS" in result.stdout  # the verdict first
    assert "Error: Progress could not be saved" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (hermetic / PROGRESS_FILE).exists()


# -- Ctrl-C ------------------------------------------------------------------------------------
def _interrupt_after(delay: float, *args: str) -> tuple[int, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "valkey_workshop", *args],
        env={**os.environ, "WORKSHOP_BACKEND": "embedded"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def _interpreter_start_up() -> float:
    """Seconds a bare interpreter of this environment takes to start and end, now (the
    machine may be loaded). Ctrl-C in that time lands in Python's own start-up (``site``),
    before any line of the workshop runs: Python reports that itself, nothing can catch it."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.4])
def test_ctrl_c_while_starting_is_exit_130_without_a_traceback(
    delay: float, hermetic: Path
) -> None:
    # `delay` counts from the first line of the workshop's own code.
    code, stderr = _interrupt_after(_interpreter_start_up() + delay, "list", "module3")
    assert "Traceback" not in stderr, stderr
    # A Ctrl-C after `list` has finished leaves exit 0; otherwise the command says so in
    # one line and exits 130 (a shell shows 130 for a process ended by SIGINT, too).
    assert code in (130, -signal.SIGINT, 0), stderr
    assert len(stderr.strip().splitlines()) <= 1, stderr


def _interrupt_when(marker: str, *args: str) -> tuple[int, str]:
    """Run the workshop and send Ctrl-C as soon as ``marker`` appears in its output (stdout
    or stderr): a readiness signal, not a delay, which a loaded machine would outrun."""
    process = subprocess.Popen(
        [sys.executable, "-m", "valkey_workshop", *args],
        env={**os.environ, "WORKSHOP_BACKEND": "embedded"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = threading.Event()
    errors: list[str] = []

    def read(stream: IO[str], keep: list[str] | None) -> None:
        for line in stream:
            if keep is not None:
                keep.append(line)
            if marker in line:
                seen.set()

    assert process.stdout is not None and process.stderr is not None
    readers = [
        threading.Thread(target=read, args=(process.stdout, None), daemon=True),
        threading.Thread(target=read, args=(process.stderr, errors), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        assert seen.wait(120), f"{marker!r} never appeared: {''.join(errors)}"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for reader in readers:
        reader.join(10)
    return process.returncode, "".join(errors)


@pytest.mark.parametrize(
    "marker",
    [
        "Server: ",  # the server runs, the demo has not started
        "Live demo",  # the demo is talking to the server
    ],
)
def test_ctrl_c_during_the_lazyfree_demo_is_exit_130_without_a_traceback(
    marker: str, hermetic: Path
) -> None:
    code, stderr = _interrupt_when(marker, "demo", "module3", "lazyfree", "--no-pause")
    assert code == 130, stderr
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "Interrupted; the server was stopped."


# -- terminal widths out of range ------------------------------------------------------------
@pytest.mark.parametrize("columns", ["0", "1", "99999999"])
def test_a_terminal_width_out_of_range_is_laid_out_at_a_sane_width(
    columns: str, hermetic: Path
) -> None:
    # COLUMNS=0 printed nothing (a check's verdict lost); COLUMNS=99999999 made `hint` take
    # 37 s and 2.6 GB. Rich takes COLUMNS as it is: the consoles clamp it.
    hint = CliRunner().invoke(app, ["hint", "module3", "cache-aside"], env={"COLUMNS": columns})
    assert hint.exit_code == 0, hint.output
    lines = hint.stdout.splitlines()
    assert "Hint 1/" in hint.stdout
    assert max(len(line) for line in lines) <= MAX_WIDTH
    checked = CliRunner().invoke(
        app,
        ["check", "module3", "bottleneck"],
        env={"COLUMNS": columns, "WORKSHOP_BACKEND": "embedded"},
    )
    assert checked.exit_code == 1, checked.output  # the starter fails, and says so
    assert "FAIL" in checked.stdout
