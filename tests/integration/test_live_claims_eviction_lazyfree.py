"""Number-bearing claims of steps 04 (eviction) and 07 (lazyfree), read from the live server.

The lessons, demos, check messages and trainer notes state these; if a server version changes
them, these tests say which sentence to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey

from valkey_workshop.content import Module
from valkey_workshop.pyfile import load_file_as_module
from valkey_workshop.server.base import ServerInfo

LABS = Path(__file__).resolve().parents[2] / "labs" / "module3"
PREFIX = "workshop:test:claims:"


@pytest.fixture
def client(server: ServerInfo) -> Iterator[valkey.Valkey]:
    connection = valkey.Valkey.from_url(server.url, decode_responses=True)
    policy = connection.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        yield connection
    finally:
        connection.config_set("maxmemory-policy", policy)
        keys = list(connection.scan_iter(match=f"{PREFIX}*"))
        if keys:
            connection.delete(*keys)
        connection.close()


def _reads(client: valkey.Valkey, key: str, count: int) -> int:
    client.delete(key)
    client.set(key, "v")
    pipe = client.pipeline(transaction=False)
    for _ in range(count):
        pipe.get(key)
    pipe.execute()
    return int(client.object("freq", key))


def test_lfu_counter_claims(client: valkey.Valkey, module3: Module) -> None:
    """Lesson 04: at the default lfu-log-factor 10 a new key starts at 5, one read makes 6,
    1,000 reads about 20; it decays by 1 per lfu-decay-time minutes (default 1)."""
    lfu = client.config_get("lfu-*")
    assert lfu == {"lfu-log-factor": "10", "lfu-decay-time": "1"}
    client.config_set("maxmemory-policy", "allkeys-lfu")
    key = f"{PREFIX}freq"
    assert _reads(client, key, 0) == 5
    assert _reads(client, key, 1) == 6
    thousand = _reads(client, key, 1000)
    assert 10 <= thousand <= 30, thousand  # random; 13-25 in 30 runs on 9.1.2
    # Compare text, not line breaks.
    lesson = " ".join(module3.step("eviction").lesson.read_text(encoding="utf-8").split())
    assert "a new key starts at 5" in lesson
    assert "one read brings it to 6" in lesson
    assert "1,000 reads bring it to about 20" in lesson
    notes = " ".join((LABS / "trainer-notes.md").read_text().split())
    assert "1,000 reads give 10-30" in notes


def test_restore_idletime_ages_a_key_without_waiting(client: valkey.Valkey) -> None:
    """Step 04's experiment (and its demo text) rely on RESTORE ... IDLETIME setting the LRU
    age that OBJECT IDLETIME reads, and on a read making the key young again."""
    client.config_set("maxmemory-policy", "noeviction")
    client.set(f"{PREFIX}source", "x" * 200)
    payload = client.dump(f"{PREFIX}source")
    client.restore(f"{PREFIX}aged", 0, payload, idletime=600)
    assert client.object("idletime", f"{PREFIX}aged") >= 600
    client.get(f"{PREFIX}aged")
    assert client.object("idletime", f"{PREFIX}aged") <= 1


def test_latency_monitor_sees_a_blocking_del_and_not_an_unlink(
    client: valkey.Valkey, server: ServerInfo
) -> None:
    """Lesson and demo 07: the latency monitor is off by default (threshold 0); with a
    threshold set (5 ms, as in the demo), a blocking DEL of a big hash is a `command` event
    and UNLINK is none."""
    probe = load_file_as_module(LABS / "07_lazyfree" / "stall_probe.py", "claims_stall_probe")
    assert client.config_get("latency-monitor-threshold")["latency-monitor-threshold"] == "0"
    user_del = client.config_get("lazyfree-lazy-user-del")["lazyfree-lazy-user-del"]
    client.config_set("lazyfree-lazy-user-del", "no")
    try:
        with probe.ServerLatencyMonitor(client, threshold_ms=5) as monitor:
            probe.build_big_hash(client, f"{PREFIX}big", 200_000)
            monitor.reset()
            client.delete(f"{PREFIX}big")
            assert "command" in monitor.events()
            probe.build_big_hash(client, f"{PREFIX}big", 200_000)
            monitor.reset()
            client.unlink(f"{PREFIX}big")
            assert "command" not in monitor.events()
    finally:
        client.config_set("lazyfree-lazy-user-del", user_del)
    # Put back as it was.
    assert client.config_get("latency-monitor-threshold")["latency-monitor-threshold"] == "0"


def test_the_lazyfree_cut_off_is_64_allocations(client: valkey.Valkey) -> None:
    """Lesson 07: a hashtable hash of 64 fields is freed at once, of 65 by the background
    thread; a listpack (few fields, short values) always at once."""
    probe = load_file_as_module(LABS / "07_lazyfree" / "stall_probe.py", "claims_stall_probe")
    user_del = client.config_get("lazyfree-lazy-user-del")["lazyfree-lazy-user-del"]
    client.config_set("lazyfree-lazy-user-del", "yes")
    handed = {}
    try:
        for size, value in ((64, "x" * 100), (65, "x" * 100), (65, "v")):
            key = f"{PREFIX}hash{size}:{len(value)}"
            client.hset(key, mapping={f"f{i}": value for i in range(size)})
            encoding = client.object("encoding", key)
            before = probe.lazy_handoffs(client)
            client.delete(key)
            handed[(size, len(value))] = (encoding, probe.lazy_handoffs(client) - before)
    finally:
        client.config_set("lazyfree-lazy-user-del", user_del)
    assert handed == {
        (64, 100): ("hashtable", 0),
        (65, 100): ("hashtable", 1),
        (65, 1): ("listpack", 0),
    }
