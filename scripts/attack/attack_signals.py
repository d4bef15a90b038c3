"""Signal trials: SIGINT (to the process group, as a terminal's Ctrl-C), SIGTERM and SIGKILL
(to the workshop process) at random times during `workshop check|start|demo|watch`, on the
embedded server and on Docker (host network).  After each trial we count what is left:
our orphaned processes (the harness is their subreaper), temp folders in our TMPDIR (after a
SIGKILL: those still there once the next command has started and cleaned up), containers
labelled by the workshop whose owner pid is one we started, and whether the progress file
still parses and still holds what it held.  Usage: python scripts/attack/attack_signals.py [N]
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h

W = h.WORKSHOP
IMAGE = "localhost/valkey-workshop-ci:8.1.8"
P = ".workshop-progress.json"
LOOP_02 = (
    h.solution("02").replace("def update_product(", "def _u(")
    + "\ndef update_product(client, db, product_id, changes):\n    while True:\n        pass\n"
)

VERBS = {
    # name: (argv after `workshop`, needs a pty, exercise files)
    "check-04": (["check", "module3", "04"], False, {"04": h.solution("04")}),
    "check-endless-loop": (
        ["check", "module3", "02", "--time-limit", "30"],
        False,
        {"02": LOOP_02},
    ),
    "check-05": (["check", "module3", "05"], False, {"05": h.solution("05")}),
    "demo-07": (["demo", "module3", "07", "--no-pause", "--db-latency", "0.05"], False, {}),
    "start": (["start", "module3", "02"], True, {}),
    "watch": (["watch", "module3", "02"], True, {"02": LOOP_02}),
    "docker-check": (
        [
            "check",
            "module3",
            "02",
            "--backend",
            "docker",
            "--image",
            IMAGE,
            "--docker-network",
            "host",
        ],
        False,
        {"02": h.solution("02")},
    ),
}


def seed_progress(wd: Path) -> dict:
    """Give the workdir progress worth losing: two hints revealed and a skip."""
    for argv in (["hint", "module3", "02"], ["hint", "module3", "02"], ["skip", "module3", "08"]):
        h.run([W, *argv, "--workdir", str(wd)], cwd=wd, timeout=30)
    return json.loads((wd / P).read_text())


def progress_state(wd: Path, before: dict) -> str:
    path = wd / P
    if not path.exists():
        return "progress file missing"
    try:
        now = json.loads(
            path.read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c))
        )
    except (ValueError, OSError) as e:
        return f"progress corrupt: {e}"
    # the seeded facts must survive: the skip of 08 and the two hints of 02
    lost = []
    try:
        steps = now["modules"]["module3"]
        if steps["write-patterns"]["status"] != "skipped":
            lost.append("skip")
        if steps["cache-aside"]["hints_revealed"] < 2:
            lost.append("hints")
    except (KeyError, TypeError) as e:
        lost.append(f"missing {e}")
    return f"progress lost {lost}" if lost else ""


def trial(i: int, verb: str, sig: int, delay: float, wd: Path, seeded: dict) -> h.Outcome:
    argv, use_pty, files = VERBS[verb]
    for step, code in files.items():
        h.put_exercise(wd, step, code)
    cmd = [W, *argv]
    if verb not in ("demo-07",):
        cmd += ["--workdir", str(wd)]
    environ = h.env()
    if verb.startswith("docker"):
        environ.pop("WORKSHOP_BACKEND", None)
    out_f = open(h.BASE / f"sig-{i}.out", "wb+")
    master = None
    reader = None
    if use_pty:
        # start and watch need a terminal: the pty is their stdin, stdout and stderr, at 80x24
        master, slave = pty.openpty()
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        stdin = stdout = slave

        def drain() -> None:
            with contextlib.suppress(OSError):
                while chunk := os.read(master, 65536):
                    out_f.write(chunk)

        reader = threading.Thread(target=drain, daemon=True)
    else:
        stdin, stdout = subprocess.DEVNULL, out_f
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=wd,
        env=environ,
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if use_pty:
        os.close(slave)
        reader.start()
    h.STARTED_PIDS.add(proc.pid)
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # a terminal's Ctrl-C goes to the foreground group
        else:
            os.kill(proc.pid, sig)
    hung = False
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        hung = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
    secs = time.monotonic() - started
    if master is not None:
        reader.join(timeout=2)
        os.close(master)
    out_f.seek(0)
    out = out_f.read().decode("utf-8", "replace")
    out_f.close()
    # what is left: processes right away (give PDEATHSIG/guards 3 s), then temp folders
    orphans, _ = h.leftovers(settle=2, kill=False)
    temps_now = sorted(p.name for p in h.TMP.glob("workshop-*"))
    if sig == signal.SIGKILL and verb.startswith("docker"):
        # the README's promise: the next (docker) start removes the containers of dead workshops
        h.run(
            [W, "check", "module3", "01", "--workdir", str(wd), *VERBS[verb][0][3:]],
            cwd=wd,
            environ=environ,
            timeout=120,
        )
    elif sig == signal.SIGKILL and temps_now:
        # the README's promise: the next start removes what a killed workshop left
        h.run([W, "check", "module3", "01", "--workdir", str(wd)], cwd=wd, timeout=60)
    orphans2, temps = h.leftovers(settle=1)
    orphans = sorted(set(orphans) | set(orphans2))
    containers = containers_left()
    problems = []
    tb = h.TRACEBACK in out
    if tb:
        problems.append("traceback")
    if hung:
        problems.append(f"did not exit within 20 s of {signal.Signals(sig).name}")
    if orphans:
        problems.append(f"{len(orphans)} processes left")
    if temps:
        problems.append(f"{len(temps)} temp folders left")
    if containers:
        problems.append(f"{len(containers)} containers left: {containers}")
    ps = progress_state(wd, seeded)
    if ps:
        problems.append(ps)
    name = f"{verb}/{signal.Signals(sig).name}@{delay:.2f}s"
    return h.Outcome(
        "signal",
        name,
        cmd,
        rc,
        secs,
        tb,
        hung,
        "clean exit, nothing left",
        not problems,
        "; ".join(problems),
        out[-3000:],
        "",
        orphans,
        temps,
    )


def containers_left() -> list[str]:
    found = h.containers_of(h.STARTED_PIDS)
    for line in found:
        subprocess.run(["docker", "rm", "-f", line.split()[0]], capture_output=True, timeout=60)
    return found


def main() -> int:
    h.setup()
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    rng = random.Random(16)
    plan = []
    if "--docker" in sys.argv:  # Docker only, while the container starts (0.05-1.2 s)
        sigs = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
        plan = [("docker-check", sigs[i % 3], rng.uniform(0.05, 1.2)) for i in range(total)]
        return run_plan(plan)
    # 6 Ctrl-Cs in the first 50 ms (start-up), the rest spread over verbs, signals and times
    for _ in range(6):
        plan.append(
            (rng.choice(["check-04", "start", "demo-07"]), signal.SIGINT, rng.uniform(0.0, 0.05))
        )
    verbs = list(VERBS)
    sigs = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
    while len(plan) < total:
        verb = verbs[len(plan) % len(verbs)]
        sig = sigs[(len(plan) // len(verbs)) % 3]
        hi = 6.0 if verb.startswith("docker") else 2.5
        plan.append((verb, sig, rng.uniform(0.05, hi)))
    return run_plan(plan)


def run_plan(plan: list) -> int:
    wd = h.fresh_workdir("signals")
    h.run(
        [W, "check", "module3", "01", "--workdir", str(wd)], cwd=wd, timeout=60
    )  # creates starters
    seeded = seed_progress(wd)
    bad = 0
    counts = {"traceback": 0, "hung": 0, "procs": 0, "temps": 0, "containers": 0, "progress": 0}
    for i, (verb, sig, delay) in enumerate(plan):
        o = h.record(trial(i, verb, sig, delay, wd, seeded))
        bad += not o.ok
        counts["traceback"] += o.traceback
        counts["hung"] += o.timed_out
        counts["procs"] += len(o.orphans)
        counts["temps"] += len(o.temp_left)
        counts["containers"] += "containers left" in o.note
        counts["progress"] += "progress" in o.note
        if "progress" in o.note:  # start again from the seeded state
            wd = h.fresh_workdir(f"signals{i}")
            h.run([W, "check", "module3", "01", "--workdir", str(wd)], cwd=wd, timeout=60)
            seeded = seed_progress(wd)
    effective = sum(
        1
        for r in h.RESULTS.read_text().splitlines()[-len(plan) :]
        if json.loads(r)["rc"] not in (0, 1, 2)
    )
    print(
        f"signals: {len(plan)} trials ({effective} landed while the command ran), {bad} with a problem: {counts}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
