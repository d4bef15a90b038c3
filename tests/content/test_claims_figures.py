"""Figures the lessons and trainer notes state about "this machine", checked against a fresh
measurement on the embedded server, and the notes' minutes against module.toml.

Every range here is the one the text states, and deliberately wide: the tests must hold on a
loaded 2-core machine and on an idle fast one. No test asserts an absolute timing of its own;
each compares a measurement with the range a sentence gives, so a text that drifts from what
the server does fails here.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey

from valkey_workshop.content import Module
from valkey_workshop.pyfile import load_file_as_module
from valkey_workshop.server.base import ServerInfo

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "labs" / "module3" / "trainer-notes.md"
MODULE_TOML = ROOT / "labs" / "module3" / "module.toml"
PREFIX = "workshop:test:figures:"
#: "## Step 04 · eviction (advanced, about 3 min)": the section and the step's minutes.
STEP_HEADING = re.compile(
    r"^## Step (\d\d) · ([a-z-]+) \(([a-z-]+), (?:about )?(\d+) min", re.MULTILINE
)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _notes() -> str:
    return _flat(NOTES.read_text(encoding="utf-8"))


def _lesson(module3: Module, slug: str) -> str:
    return _flat(module3.step(slug).lesson.read_text(encoding="utf-8"))


@pytest.fixture
def client(server: ServerInfo) -> Iterator[valkey.Valkey]:
    connection = valkey.Valkey.from_url(server.url, decode_responses=True)
    yield connection
    keys = list(connection.scan_iter(match=f"{PREFIX}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


# -- the notes' minutes ---------------------------------------------------------------------


def test_each_steps_minutes_fit_its_section() -> None:
    """The notes give each step's minutes in its heading; a section's steps fit its minutes."""
    module = tomllib.loads(MODULE_TOML.read_text(encoding="utf-8"))
    sections = {section["id"]: section for section in module["sections"]}
    step_section = {step["number"]: step["section"] for step in module["steps"]}
    headings = STEP_HEADING.findall(NOTES.read_text(encoding="utf-8"))
    assert sorted(int(number) for number, *_ in headings) == sorted(step_section)
    spent: dict[str, int] = {}
    for number, _slug, section, minutes in headings:
        assert section == step_section[int(number)], f"step {number} is in {section}?"
        spent[section] = spent.get(section, 0) + int(minutes)
    for section, minutes in spent.items():
        assert minutes <= sections[section]["minutes"], (
            f"{section}: the steps' minutes add up to {minutes}, the section has "
            f"{sections[section]['minutes']}"
        )


def test_the_timing_plan_table_matches_module_toml() -> None:
    module = tomllib.loads(MODULE_TOML.read_text(encoding="utf-8"))
    text = NOTES.read_text(encoding="utf-8")
    for section in module["sections"]:
        row = re.search(rf"^\| {re.escape(section['title'])}[^|]* \| (?:about )?(\d+)", text, re.M)
        assert row is not None, section["title"]
        assert int(row.group(1)) == section["minutes"], section["title"]


# -- step 01: a loopback GET ----------------------------------------------------------------


def test_a_loopback_get_takes_what_the_notes_say(client: valkey.Valkey) -> None:
    """Notes 01: the median of 200 GETs on loopback is 10-500 µs, so against a 2 ms query a
    GET is 4x-200x faster and against the 1.5 s sleep 3,000x-150,000x."""
    client.set(f"{PREFIX}get", "x" * 100)
    medians = []
    for _ in range(3):  # the best of three rounds: one busy spell on the machine spoils one
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            client.get(f"{PREFIX}get")
            timings.append(time.perf_counter() - started)
        medians.append(statistics.median(timings))
    median_us = min(medians) * 1e6
    low_us, high_us = 10, 500  # 203-214 µs were seen under a load average of 11
    assert low_us <= median_us <= high_us, median_us
    notes = _notes()
    assert f"{low_us}-{high_us} µs from an idle machine to a busy one" in notes
    # The ratios the notes give are the arithmetic of that range.
    sleep_low, sleep_high = 1.5 / (high_us * 1e-6), 1.5 / (low_us * 1e-6)
    query_low, query_high = 2e-3 / (high_us * 1e-6), 2e-3 / (low_us * 1e-6)
    assert f"between about {sleep_low:,.0f}x and {sleep_high:,.0f}x against the sleep" in notes
    assert f"between about {query_low:.0f}x and {query_high:.0f}x against the 2 ms query" in notes


# -- step 06: the client's cost per command and the loopback win ----------------------------


def test_pipelining_figures_hold_on_a_fresh_measurement(
    module3: Module, client: valkey.Valkey
) -> None:
    """Lesson 06: plain valkey-py costs 3-100 µs per pipelined command (34-42 µs were seen under
    a load average of 8, 7-11 µs on the idle machine), and on loopback
    pipelining wins "a few times to a few tens of times" (2x-60x here)."""
    count, batch = 4000, 1000
    record = json.dumps({"name": "Bulk item", "price": 1.0})
    keys = [f"{PREFIX}pipe:{i}" for i in range(count)]
    rtts = []
    for _ in range(50):
        started = time.perf_counter()
        client.ping()
        rtts.append(time.perf_counter() - started)
    rtt = statistics.median(rtts)
    # The best of three rounds of each, taken in turns: load only ever adds time, and one
    # preempted round (a CI run saw 4,000 pipelined SETs take 73 µs each) says nothing about
    # pipelining.
    one_by_one = piped = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for name in keys:
            client.set(name, record)
        one_by_one = min(one_by_one, time.perf_counter() - started)
        started = time.perf_counter()
        for start in range(0, count, batch):
            pipe = client.pipeline(transaction=False)
            for name in keys[start : start + batch]:
                pipe.set(name, record)
            pipe.execute()
        piped = min(piped, time.perf_counter() - started)
    client.delete(*keys)
    cost_us = max(piped - (count // batch) * rtt, 0.0) / count * 1e6
    assert 3 <= cost_us <= 100, cost_us
    assert 2 <= one_by_one / piped <= 60, one_by_one / piped
    lesson = _lesson(module3, "pipelining")
    assert "3-100 µs of CPU per command in Python" in lesson
    assert "3-100 µs from an idle machine to a busy one" in _notes()
    assert "so pipelining wins a few times to a few tens of times" in lesson
    # The 1 ms arithmetic the lesson states: (RTT + c) / (RTT/B + c), RTT 1 ms, B 1,000.
    at_10, at_30 = (1000 + 10) / (1 + 10), (1000 + 30) / (1 + 30)
    assert (
        f"about {round(at_10, -1):.0f}x when a command costs the client 10 µs and about "
        f"{at_30:.0f}x at 30 µs" in lesson
    )


def test_pipelining_text_has_no_stale_multiples(module3: Module) -> None:
    for text in (_lesson(module3, "pipelining"), _notes()):
        assert "70-100x" not in text and "170-280x" not in text
        assert "0.7-1 s" not in text and "15-35 ms" not in text


# -- step 07: a blocking DEL ------------------------------------------------------------------


def test_a_blocking_del_of_the_demo_hash_takes_tens_to_hundreds_of_ms(
    module3: Module, client: valkey.Valkey
) -> None:
    """Lesson 07 and the notes: DEL of the demo's 500,000-field hash with lazy user-del off
    keeps the main thread busy for tens to hundreds of milliseconds (here: 10 ms to 2 s, the
    server's own usec for the call)."""
    probe = load_file_as_module(
        ROOT / "labs" / "module3" / "07_lazyfree" / "stall_probe.py", "figures_stall_probe"
    )
    user_del = client.config_get("lazyfree-lazy-user-del")["lazyfree-lazy-user-del"]
    client.config_set("lazyfree-lazy-user-del", "no")
    try:
        probe.build_big_hash(client, f"{PREFIX}big", 500_000)
        client.config_resetstat()
        client.delete(f"{PREFIX}big")
        usec = int(client.info("commandstats")["cmdstat_del"]["usec"])
        probe.build_big_hash(client, f"{PREFIX}big", 500_000)
        client.config_resetstat()
        client.unlink(f"{PREFIX}big")
        unlink_usec = int(client.info("commandstats")["cmdstat_unlink"]["usec"])
    finally:
        client.config_set("lazyfree-lazy-user-del", user_del)
    assert 10_000 <= usec <= 2_000_000, usec
    # "A small fraction": 14-34 µs on an idle machine, 2.7 ms once under a load average of 11.
    assert unlink_usec * 5 < usec, (unlink_usec, usec)
    assert "a small fraction of that (tens of microseconds on an idle machine)" in _lesson(
        module3, "lazyfree"
    )
    assert "UNLINK costs the main thread a small fraction of that" in _notes()
    assert "tens to hundreds of milliseconds" in _lesson(module3, "lazyfree")
    assert "stalls every client for tens to hundreds of milliseconds" in _notes()
    assert "25-160 ms" not in _notes()


# -- step 04: the LFU counter -----------------------------------------------------------------


def test_lfu_counts_the_notes_give(client: valkey.Valkey) -> None:
    """Notes 04: a new key starts at 5; 1,000 reads give 10-30 (random)."""
    policy = client.config_get("maxmemory-policy")["maxmemory-policy"]
    client.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        counters = []
        for run in range(3):
            name = f"{PREFIX}lfu:{run}"
            client.set(name, "v")
            assert int(client.object("freq", name)) == 5
            pipe = client.pipeline(transaction=False)
            for _ in range(1000):
                pipe.get(name)
            pipe.execute()
            counters.append(int(client.object("freq", name)))
    finally:
        client.config_set("maxmemory-policy", policy)
    assert all(10 <= counter <= 30 for counter in counters), counters
    assert "A new key starts at 5; 1,000 reads give 10-30" in _notes()
