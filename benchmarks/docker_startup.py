"""Time from command start to a ready Valkey container, with a local image.

Each run is a fresh Python process (interpreter start and imports included) that starts the
docker backend and reports when an authenticated PING answers; the outside clock runs from
spawning the process to that report. Goal: at most 1.5 s.

    python -m benchmarks.docker_startup [--image localhost/valkey-workshop-ci:8.1.8] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL_SECONDS = 1.5

CHILD = """
import sys, time
started = time.perf_counter()
from valkey_workshop.server.docker import DockerBackend
backend = DockerBackend(sys.argv[1], network=sys.argv[2])
info = backend.start()
print(f"ready {time.perf_counter() - started:.3f}", flush=True)
backend.stop()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default="localhost/valkey-workshop-ci:8.1.8")
    parser.add_argument("--network", default="host", choices=["host", "bridge"])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    outside, inside = [], []
    for _ in range(options.runs):
        spawned = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, options.image, options.network],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        outside.append(time.perf_counter() - spawned)
        child.wait(timeout=60)
        if not line.startswith("ready"):
            sys.exit(f"the backend did not start (exit code {child.returncode})")
        inside.append(float(line.split()[1]))
    print(f"image {options.image}, {options.network} network, {options.runs} runs")
    print(
        f"command start -> ready container: median {statistics.median(outside):.2f} s, "
        f"max {max(outside):.2f} s"
    )
    print(f"  of which imports + backend start: median {statistics.median(inside):.2f} s")
    verdict = "within" if statistics.median(outside) <= GOAL_SECONDS else "ABOVE"
    print(f"goal {GOAL_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
