"""The table of counts from results.jsonl (the last record per attack; the last N signal
trials).  Usage: python scripts/attack/summary.py [--signals N]"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h


def startup_only(text: str) -> bool:
    """A KeyboardInterrupt traceback raised inside the interpreter's own start-up (site.py,
    the editable-install finder), before any line of the product runs."""
    tb = text[text.find(h.TRACEBACK) :]
    return (
        "KeyboardInterrupt" in tb
        and "valkey_workshop/" not in tb.replace("__editable___valkey_workshop", "")
        and ("<frozen site>" in tb or "init_import_site" in text)
    )


def main() -> int:
    n_signals = 174  # the 150-trial run, then the 24 Docker-only trials
    if "--signals" in sys.argv:
        n_signals = int(sys.argv[sys.argv.index("--signals") + 1])
    records = [json.loads(line) for line in h.RESULTS.read_text().splitlines() if line.strip()]
    signals = [r for r in records if r["category"] == "signal"][-n_signals:]
    last: dict[tuple[str, str], dict] = {}
    for r in records:
        if r["category"] != "signal":
            last[(r["category"], r["name"])] = r
    rows = list(last.values()) + signals
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        cat = r["category"].split("-")[0] if r["category"].startswith("url") else r["category"]
        t = table[cat]
        t["tried"] += 1
        if r["category"] == "signal":
            t["signal landed while running"] += r["rc"] != 0
        t["problems"] += not r["ok"]
        if r["traceback"]:
            text = r["stdout"] + r["stderr"]
            if startup_only(text):
                t["tracebacks (interpreter start-up)"] += 1
            elif r["category"] in ("learner", "guided") and r["rc"] in (0, 1):
                t["tracebacks (inside a check message)"] += 1
            else:
                t["tracebacks"] += 1
        note = r["note"]
        if "WRONG ANSWER PASSED" in note or "known-wrong answer passed" in note:
            t[
                "wrong answers passed" + (" (out of scope)" if "out of scope" in r["name"] else "")
            ] += 1
        m = re.search(r"(\d+) user keys lost", note)
        if m:
            t["user keys lost"] += int(m.group(1))
        t["orphan processes"] += len(r["orphans"])
        t["orphan temp folders"] += len(r["temp_left"])
        m = re.search(r"(\d+) containers left", note)
        if m:
            t["orphan containers"] += int(m.group(1))
        if "outside" in note and ("changed" in note or "written" in note or "new files" in note):
            t["files lost/overwritten outside"] += 1
        if "overwritten by the JUnit report" in note:
            t["learner files overwritten inside the workdir"] += 1
        if "LEFT PAUSED" in note or "settings changed" in note:
            t["user server left changed (pause, ACL user)"] += 1
        m = re.search(r"(\d+) updates lost", note)
        if m:
            t["progress updates lost"] += int(m.group(1))
        if "progress lost" in note or "progress corrupt" in note or "progress file missing" in note:
            t["progress damaged by a signal"] += 1
        if "hung" in note or "did not exit" in note:
            t["hangs"] += 1
    keys = sorted({k for t in table.values() for k in t})
    order = ["tried", "problems"] + [k for k in keys if k not in ("tried", "problems")]
    cats = list(table)
    print("| count | " + " | ".join(cats) + " | total |")
    print("|---" * (len(cats) + 2) + "|")
    for k in order:
        vals = [table[c].get(k, 0) for c in cats]
        print(f"| {k} | " + " | ".join(str(v) for v in vals) + f" | {sum(vals)} |")
    print()
    for r in rows:
        if not r["ok"]:
            print(f"- {r['category']}/{r['name']}: rc={r['rc']} {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
