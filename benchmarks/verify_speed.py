"""How fast the content proves itself, against the targets of issues 12 and 21 (2 cores,
embedded): verify module3 within 20 s, each reference check within 2 s, and (issue 21, with
the learner-error operators) verify module3 --mutants within 5 minutes.

Prints, in one run:
- each step's check of its reference solution: on a fresh server (the first check, which pays
  for anything measured once per server, such as step 07's blocking-DEL baseline) and again
  on the same server (every later check), ``--repeat`` times: the median and the best, and
  whether the median of the first check is within target;
- the whole ``workshop verify`` at the default ``--jobs`` (``--repeat`` times, median and best:
  the median decides) and at ``-j 1``, and their ratio;
- the same ``verify`` with a process started per check (``WORKSHOP_FORK_SERVER=0``, what macOS
  and Windows do), against the fork server;
- ``workshop verify --mutants``, when this checkout has it (otherwise it says so and skips).

Targets live here, not in timed tests: a loaded machine makes timings wander, so every line
says the load average it was measured under, and the verdict goes by the median.

    python -m benchmarks.verify_speed [--module module3] [--repeat 3] [--skip-serial]
        [--skip-process-per-check] [--skip-mutants]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from valkey_workshop.checking.forkserver import FORK_SERVER_ENV
from valkey_workshop.checking.proofs import default_jobs
from valkey_workshop.checking.runner import run_step_checks
from valkey_workshop.content import load_module
from valkey_workshop.server.embedded import EmbeddedBackend

VERIFY_TARGET_SECONDS = 20.0
MUTANTS_TARGET_SECONDS = 300.0
CHECK_TARGET_SECONDS = 2.0


def _mark(ok: bool) -> str:
    return "ok" if ok else "OVER target"


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _spread(seconds: list[float]) -> str:
    """``median 1.23 s, best 1.01 s`` (one run: just its time)."""
    if len(seconds) == 1:
        return f"{seconds[0]:6.2f} s"
    return f"median {statistics.median(seconds):6.2f} s, best {min(seconds):6.2f} s"


def _workshop(*args: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run the real CLI (server start, imports and all); seconds, exit code, and its last line
    (after a failure also the failed rows, so that a proof that failed under load is named)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", *args, "--backend", "embedded"],
        capture_output=True,
        text=True,
        check=False,
        # Wide: a table row stays on one line, so a failed row can be shown whole.
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "400", **(env or {})},
    )
    seconds = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    last = lines[-1].strip() if lines else done.stderr.strip()[-200:]
    if done.returncode != 0:
        failed = [" ".join(line.split()) for line in lines[:-1] if "✗" in line]
        last += "".join(f"\n    {row[:300]}" for row in failed)
    return seconds, done.returncode, last


def _has_mutants() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", "verify", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    return "--mutants" in done.stdout


def _step_checks(module_id: str, repeat: int) -> bool:
    module = load_module(module_id)
    print(
        f"Check of each reference solution, first on a fresh server / again on it, {repeat} "
        f"times (target ≤ {CHECK_TARGET_SECONDS:g} s for the median of each):"
    )
    ok = True
    for step in module.steps:
        firsts: list[float] = []
        agains: list[float] = []
        passed = True
        for _ in range(repeat):
            with EmbeddedBackend() as info:
                for timings in (firsts, agains):
                    started = time.perf_counter()
                    result = run_step_checks(step, step.solution, info.url)
                    timings.append(time.perf_counter() - started)
                    passed = passed and result.passed
        worst = max(statistics.median(firsts), statistics.median(agains))
        within = worst <= CHECK_TARGET_SECONDS and passed
        ok = ok and within
        verdict = _mark(within) if passed else "FAILED: the solution does not pass"
        print(
            f"  {step.label:<20} first {_spread(firsts)} / again {_spread(agains)}"
            f"  {verdict}  ({_load()})"
        )
    return ok


def _verify_runs(module_id: str, repeat: int) -> tuple[list[float], int, str]:
    """``repeat`` runs of ``workshop verify``: their seconds, and the worst exit code's line."""
    seconds: list[float] = []
    worst_code, worst_line = 0, ""
    for _ in range(repeat):
        took, code, last = _workshop("verify", module_id)
        seconds.append(took)
        if code != 0 and worst_code == 0:
            worst_code, worst_line = code, last
    return seconds, worst_code, worst_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--module", default="module3")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each step check and of verify (median)"
    )
    parser.add_argument("--skip-serial", action="store_true", help="skip the -j 1 run")
    parser.add_argument(
        "--skip-process-per-check",
        action="store_true",
        help="skip the run without the fork server (what macOS and Windows do)",
    )
    parser.add_argument("--skip-mutants", action="store_true", help="skip verify --mutants")
    options = parser.parse_args()
    repeat = max(1, options.repeat)
    # What a learner runs is an installed package, which pip byte-compiles. A checkout under
    # PYTHONDONTWRITEBYTECODE (this machine sets it) compiles every module from source on each
    # start instead: about 0.25 s a `workshop` command here, none of it the content's.
    import valkey_workshop  # noqa: PLC0415 - only its folder is needed, once

    compileall.compile_dir(Path(valkey_workshop.__file__).parent, quiet=1)
    print(f"{os.cpu_count()} CPUs; default --jobs {default_jobs()}; {_load()}")
    ok = _step_checks(options.module, repeat)

    runs, code, last = _verify_runs(options.module, repeat)
    parallel = statistics.median(runs)
    within = parallel <= VERIFY_TARGET_SECONDS and code == 0
    ok = ok and within
    verdict = _mark(within) if code == 0 else "FAILED: " + last
    print(
        f"verify {options.module} (-j {default_jobs()}), {len(runs)} runs: {_spread(runs)} "
        f"(target ≤ {VERIFY_TARGET_SECONDS:g} s)  {verdict}  ({_load()})"
    )
    if not options.skip_serial:
        serial, code, last = _workshop("verify", options.module, "-j", "1")
        print(
            f"verify {options.module} (-j 1):  {serial:6.2f} s; serial/parallel = "
            f"{serial / parallel:.2f}x  {'' if code == 0 else 'FAILED: ' + last}  ({_load()})"
        )

    if not options.skip_process_per_check:
        spawned, code, last = _workshop("verify", options.module, env={FORK_SERVER_ENV: "0"})
        print(
            f"verify {options.module} (-j {default_jobs()}, a process per check, as on macOS "
            f"and Windows): {spawned:6.2f} s; {spawned / parallel:.2f}x the fork server's  "
            f"{'' if code == 0 else 'FAILED: ' + last}  ({_load()})"
        )

    if options.skip_mutants:
        print("verify --mutants: skipped (--skip-mutants)")
    elif _has_mutants():
        mutants, code, last = _workshop("verify", options.module, "--mutants")
        within = mutants <= MUTANTS_TARGET_SECONDS and code == 0
        ok = ok and within
        print(
            f"verify {options.module} --mutants: {mutants:6.1f} s "
            f"(target ≤ {MUTANTS_TARGET_SECONDS:g} s)  "
            f"{_mark(within) if code == 0 else 'FAILED: ' + last}  ({_load()})"
        )
    else:
        print(
            "verify --mutants: skipped: this checkout has no `workshop verify --mutants` yet "
            f"(issue 10 adds it); target ≤ {MUTANTS_TARGET_SECONDS:g} s"
        )
    print("every figure within target" if ok else "NOT every figure is within target")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
