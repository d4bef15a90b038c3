"""What the server guard costs per check run (it runs around every check and demo).

Times ``ServerGuard.run`` around an action that does nothing, on a fresh embedded server:
a step that changes nothing server-wide (snapshot, health check, restore), a
``changes_server`` step on our own server (the same), and one on a server reached through
``--url`` (the same plus INFO keyspace and a SCAN of each database), with 2,000 of the
workshop's keys present.

    python -m benchmarks.guard_cost [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import valkey

from valkey_workshop.content import load_module
from valkey_workshop.content.models import Step
from valkey_workshop.server.embedded import EmbeddedBackend
from valkey_workshop.server.guard import ServerGuard
from valkey_workshop.server.url import UrlBackend


def _times_ms(run: Callable[[], object], runs: int) -> list[float]:
    run()  # the first call opens the guard's connection
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    module = load_module("module3")
    plain, server_wide = module.step("cache-aside"), module.step("eviction")
    with EmbeddedBackend() as info:
        ours = ServerGuard(info)
        valkey.Valkey.from_url(info.url).mset({f"workshop:bench:{i}": 1 for i in range(2000)})
        theirs = ServerGuard(UrlBackend(info.url).start())
        cases = (
            ("step without changes_server, our server", ours, plain),
            ("changes_server step, our server", ours, server_wide),
            ("changes_server step, --url server (2,000 keys scanned)", theirs, server_wide),
        )
        for label, guard, step in cases:

            def one_run(guard: ServerGuard = guard, step: Step = step) -> object:
                return guard.run(step, lambda: None)

            times = _times_ms(one_run, runs)
            print(
                f"{label}: median {statistics.median(times):.2f} ms, "
                f"max {max(times):.2f} ms ({runs} runs)"
            )
        ours.close()
        theirs.close()


if __name__ == "__main__":
    main()
