"""The guided session and watch on a pty (80x24) with learner code that kills the server
(SHUTDOWN) or pauses it: the session must say so once, restart the server and go on; a
corrected file must then pass; no traceback, nothing left.  Usage: python scripts/attack/attack_guided.py
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h
from attack_learner import WRONG_02, wrap_update

W = h.WORKSHOP


class Pty:
    def __init__(self, argv, cwd):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=h.env(),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.out = b""

    def read_until(self, text: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text.encode() in self.out:
                return True
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    return text.encode() in self.out
        return text.encode() in self.out

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int | None:
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            rc = None
            self.proc.wait()
        self.read_until("\x00never", 0.5)
        os.close(self.master)
        return rc


def scenario(name: str, verb: list[str], hostile: str, keys_after: str) -> h.Outcome:
    wd = h.fresh_workdir(f"guided-{name}")
    for step, folder in h.STEPS.items():
        h.put_exercise(wd, step, (h.LABS / folder / "starter.py").read_text())
    ex = h.put_exercise(wd, "02", wrap_update(WRONG_02, hostile))
    t = Pty([W, *verb, "module3", "02", "--workdir", str(wd)], wd)
    problems = []
    started = time.monotonic()
    if verb[0] == "start":
        if not t.read_until("quit", 60):
            problems.append("no key bar")
        t.send("c")
    # the hostile check runs; then the corrected file
    t.read_until("Server", 5)
    time.sleep(12)
    ex.write_text(h.solution("02"))
    if verb[0] == "start":
        t.send("c")
    passed = t.read_until("PASS", 40)
    if not passed:
        problems.append("the corrected file did not pass after the server was stopped")
    t.send(keys_after)
    rc = t.close()
    text = t.out.decode("utf-8", "replace")
    if rc is None:
        problems.append("did not quit")
    if h.TRACEBACK in text:
        problems.append("traceback")
    # A busy script is stopped with SCRIPT KILL (the server keeps running): saying that is
    # the right report; any other attack stops the server, which must be restarted.
    if "restart" not in text.lower() and "script kill" not in text.lower():
        problems.append("never said the server was restarted (or the script stopped)")
    orphans, temps = h.leftovers(settle=2)
    if orphans or temps:
        problems.append("left behind")
    return h.record(
        h.Outcome(
            "guided",
            name,
            verb,
            rc,
            time.monotonic() - started,
            h.TRACEBACK in text,
            rc is None,
            "restart said once, corrected file passes",
            not problems,
            "; ".join(problems),
            text[-4000:],
            "",
            orphans,
            temps,
        )
    )


def main() -> int:
    h.setup()
    runs = [
        ("start-shutdown", ["start"], "client.execute_command('SHUTDOWN', 'NOSAVE')", "q"),
        ("watch-shutdown", ["watch"], "client.execute_command('SHUTDOWN', 'NOSAVE')", "q"),
        (
            "watch-client-pause",
            ["watch", "--time-limit", "4"] if False else ["watch"],
            "client.execute_command('CLIENT', 'PAUSE', '600000', 'ALL')",
            "q",
        ),
        ("start-lua-busy", ["start"], "client.eval('while true do end', 0)", "q"),
    ]
    for name, verb, hostile, keys in runs:
        scenario(name, verb, hostile, keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
