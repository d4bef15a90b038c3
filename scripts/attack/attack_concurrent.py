"""Two `workshop` processes on one workdir at once (a `watch` here, a `hint` in another
terminal): hints, skips and checks interleaved.  Counts updates lost: expected minus found
in the progress file.  Usage: python scripts/attack/attack_concurrent.py [rounds]
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h

W = h.WORKSHOP
SLUGS = {
    "01": "bottleneck",
    "02": "cache-aside",
    "03": "ttl-persist",
    "04": "eviction",
    "05": "tracking",
    "06": "pipelining",
    "07": "lazyfree",
    "08": "write-patterns",
}
CHECKS = 6


def hint_counts() -> dict[str, int]:
    import tomllib

    return {
        s: len(tomllib.loads((h.LABS / f / "step.toml").read_text())["hints"])
        for s, f in h.STEPS.items()
    }


def main() -> int:
    h.setup()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    nhints = hint_counts()
    total_lost = tracebacks = commands = 0
    for r in range(rounds):
        wd = h.fresh_workdir(f"concurrent{r}")
        h.run(
            [W, "check", "module3", "01", "--workdir", str(wd)], cwd=wd, timeout=60
        )  # starters, 1 attempt on 01
        outs: list[str] = []
        lock = threading.Lock()

        def go(argvs):
            nonlocal commands
            for argv in argvs:
                rc, out, err, *_ = h.run([W, *argv, "--workdir", str(wd)], cwd=wd, timeout=120)
                with lock:
                    outs.append(out + err)
                    commands += 1

        # A: every hint of steps 02-05 and skips of 06, 07; B: checks of 02 and 03, hints of 06-08
        a = [["hint", "module3", s] for s in ("02", "03", "04", "05") for _ in range(nhints[s])]
        a += [["skip", "module3", "06"], ["skip", "module3", "07"]]
        b = [["check", "module3", s] for s in ("02", "03") for _ in range(CHECKS)]
        b += [["hint", "module3", s] for s in ("06", "07", "08") for _ in range(nhints[s])]
        c = [
            ["check", "module3", "02"] for _ in range(CHECKS)
        ]  # a third writer on step 02's attempts
        threads = [threading.Thread(target=go, args=(x,)) for x in (a, b, c)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        prog = json.loads((wd / ".workshop-progress.json").read_text())["modules"]["module3"]
        expected = {}
        for s in ("02", "03", "04", "05", "06", "07", "08"):
            expected[f"{SLUGS[s]}.hints_revealed"] = nhints[s]
        expected["cache-aside.attempts"] = 2 * CHECKS
        expected["ttl-persist.attempts"] = CHECKS
        lost = 0
        detail = []
        for key, want in expected.items():
            slug, field = key.split(".")
            got = prog.get(slug, {}).get(field, 0)
            if got < want:
                lost += want - got
                detail.append(f"{key}: {got}/{want}")
        for s in ("06", "07"):
            # step 06/07 got hints from B while A skipped them: the skip must survive
            if prog.get(SLUGS[s], {}).get("status") != "skipped":
                lost += 1
                detail.append(f"{SLUGS[s]} skip lost")
        tb = sum(h.TRACEBACK in o for o in outs)
        tracebacks += tb
        total_lost += lost
        orphans, temps = h.leftovers()
        h.record(
            h.Outcome(
                "concurrent",
                f"round-{r}",
                ["3 writers"],
                0,
                0,
                tb > 0,
                False,
                "no update lost",
                lost == 0 and tb == 0 and not orphans and not temps,
                f"{lost} updates lost {detail}; {tb} tracebacks",
                "",
                "",
                orphans,
                temps,
            )
        )
    print(
        f"concurrent: {rounds} rounds, {commands} commands, {total_lost} updates lost, {tracebacks} tracebacks"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
