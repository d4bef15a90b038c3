"""What a GET costs the server, against what the application sees: step 01's lesson says the
server spends less than a microsecond on a GET and the application tens of microseconds on the
same machine. Medians of many GETs, three rounds, the best round reported.

Targets: the server under 1 µs per GET; the client under 1,000 µs. A loaded machine makes
these wander (1.03 µs was once seen on a busy 2-core box), so they live here and the test
(tests/content/test_claims_01_03.py) checks only that the server's part is a small share of
what the client sees.

    python -m benchmarks.get_cost [--rounds 3] [--gets 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import valkey

from valkey_workshop.server.embedded import EmbeddedBackend

SERVER_TARGET_US = 1.0
CLIENT_TARGET_US = 1000.0
KEY = "bench:get-cost"


def measure(client: valkey.Valkey, rounds: int, gets: int) -> tuple[float, float]:
    """(server µs per GET, client median µs per GET) of the best of ``rounds`` rounds."""
    client.set(KEY, "a cached value")
    samples = []
    for _ in range(rounds):
        client.config_resetstat()
        timings = []
        for _ in range(gets):
            started = time.perf_counter()
            client.get(KEY)
            timings.append(time.perf_counter() - started)
        server_us = float(client.info("commandstats")["cmdstat_get"]["usec_per_call"])
        samples.append((server_us, statistics.median(timings) * 1e6))
    return min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gets", type=int, default=200)
    options = parser.parse_args()
    with EmbeddedBackend() as info:
        client = valkey.Valkey.from_url(info.url, decode_responses=True)
        try:
            server_us, client_us = measure(client, options.rounds, options.gets)
        finally:
            client.close()
    print(f"server: {server_us:.2f} µs per GET (target < {SERVER_TARGET_US:.0f})")
    print(f"client: {client_us:.1f} µs per GET (target < {CLIENT_TARGET_US:.0f})")


if __name__ == "__main__":
    main()
