"""What a Tab press costs, against a bare interpreter start (``python -c pass``).

Each Tab press is a fresh ``workshop`` process that the shell starts with the completion
variables set (``_WORKSHOP_COMPLETE=complete_bash``), as bash does; it answers from the table
of commands (valkey_workshop/cli/tab.py) and the course's ``module.toml``, without Typer,
Click, checking, server or rendering code (tests/unit/test_layers.py holds that). zsh shows
each step's title too, which the content loader reads: ``--shell zsh`` times that. The two
are run alternately, so load on the machine falls on both alike, and the medians are
compared. Goal: a Tab press at most 5x a bare start.

    python -m benchmarks.tab_press [--runs 15] [--shell zsh]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

GOAL_RATIO = 5.0
#: What each shell hands the program: ``workshop check module3 cache<Tab>``.
TAB_PRESSES = {
    "bash": {
        "_WORKSHOP_COMPLETE": "complete_bash",
        "COMP_WORDS": "workshop check module3 cache",
        "COMP_CWORD": "3",
    },
    "zsh": {
        "_WORKSHOP_COMPLETE": "complete_zsh",
        "_TYPER_COMPLETE_ARGS": "workshop check module3 cache",
    },
}
WORKSHOP = (sys.executable, "-m", "valkey_workshop")


def timed(command: tuple[str, ...], env: dict[str, str]) -> tuple[float, str]:
    """Seconds from spawning ``command`` to its exit, and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--shell", choices=sorted(TAB_PRESSES), default="bash")
    options = parser.parse_args()
    # An installed package has its bytecode (pip compiles it); a Tab press is timed so, not
    # compiling every module from source as under PYTHONDONTWRITEBYTECODE.
    bare_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    tab_env = {**bare_env, **TAB_PRESSES[options.shell]}
    _, answer = timed(WORKSHOP, tab_env)  # warm the file cache and the bytecode
    if "cache-aside" not in answer:
        raise SystemExit(f"the Tab press did not complete cache-aside: {answer!r}")
    bare, tab = [], []
    for _ in range(options.runs):
        bare.append(timed((sys.executable, "-c", "pass"), bare_env)[0])
        tab.append(timed(WORKSHOP, tab_env)[0])
    bare_ms, tab_ms = statistics.median(bare) * 1000, statistics.median(tab) * 1000
    ratio = tab_ms / bare_ms
    # The fastest runs are the ones the machine's load disturbed least.
    best_ratio = min(tab) / min(bare)
    verdict = "ok" if ratio <= GOAL_RATIO else "over the goal"
    print(f"python -c pass: median {bare_ms:.1f} ms, best {min(bare) * 1000:.1f} ms")
    print(f"Tab press ({options.shell}): median {tab_ms:.1f} ms, best {min(tab) * 1000:.1f} ms")
    print(f"ratio of medians {ratio:.2f}x, of the best runs {best_ratio:.2f}x")
    print(f"({options.runs} runs each; goal <= {GOAL_RATIO:.0f}x): {verdict}")


if __name__ == "__main__":
    main()
