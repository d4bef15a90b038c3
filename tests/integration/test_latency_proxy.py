"""The simulated network really delays round trips, and can be switched off."""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit

import valkey

from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.latency_proxy import LatencyProxy


def _median_ping(client: valkey.Valkey) -> float:
    samples = []
    for _ in range(30):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def test_proxy_adds_the_round_trip_and_toggles(server: ServerInfo) -> None:
    target = urlsplit(server.url)
    assert target.hostname and target.port
    with LatencyProxy(target.hostname, target.port, 0.002) as proxy:
        client = valkey.Valkey.from_url(proxy.url_for(server.url), decode_responses=True)
        client.set("proxy:k", "v")
        assert client.get("proxy:k") == "v"  # bytes pass through unchanged, in order
        delayed = _median_ping(client)
        assert delayed >= 0.002  # each direction sleeps half the RTT before forwarding
        proxy.enabled = False
        direct = _median_ping(client)
        assert direct < delayed / 2
        client.delete("proxy:k")
        client.close()
