"""The simulated network really delays round trips, and can be switched off."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import valkey

from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.latency_proxy import LatencyProxy

RTT_SECONDS = 0.02


def _fastest_ping(client: valkey.Valkey) -> float:
    # The fastest of several: load only ever adds time, so the minimum is what the proxy
    # itself costs (a median moved from 2 ms to 4 ms direct on a loaded CI machine).
    samples = []
    for _ in range(15):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    return min(samples)


def test_proxy_adds_the_round_trip_and_toggles(server: ServerInfo) -> None:
    target = urlsplit(server.url)
    assert target.hostname and target.port
    with LatencyProxy(target.hostname, target.port, RTT_SECONDS) as proxy:
        client = valkey.Valkey.from_url(proxy.url_for(server.url), decode_responses=True)
        client.set("proxy:k", "v")
        assert client.get("proxy:k") == "v"  # bytes pass through unchanged, in order
        # Each direction sleeps half the RTT before forwarding: a floor no load can lower.
        assert _fastest_ping(client) >= RTT_SECONDS
        proxy.enabled = False
        assert proxy.delay == 0.0
        # Switched off, not one of the pings waits a whole round trip of the simulated network.
        assert _fastest_ping(client) < RTT_SECONDS / 2
        client.delete("proxy:k")
        client.close()
