"""Content proves itself: starters fail, solutions pass, wrong answers fail for the declared
reason, accepted styles pass, demos run. The same proofs as `workshop verify`."""

from __future__ import annotations

from pathlib import Path

import pytest

from valkey_workshop.checking import run_step_checks
from valkey_workshop.commands.verify import verify_step
from valkey_workshop.content import load_module
from valkey_workshop.server.base import ServerInfo

STEPS = [step.slug for step in load_module("module3").steps]


@pytest.mark.parametrize("slug", STEPS)
def test_every_content_proof_holds(slug: str, server: ServerInfo) -> None:
    step = load_module("module3").step(slug)
    findings = verify_step(step, server)
    broken = [f"{f.subject}: {f.detail}" for f in findings if not f.ok]
    assert not broken, "\n".join(broken)
    subjects = [f.subject for f in findings]
    assert subjects[:2] == ["starter fails", "solution passes"]
    assert subjects[-1] == "demo runs"
    assert len(step.hints) >= 2
    # Each known-wrong answer is rejected with its own message.
    rejections = [f.detail for f in findings if f.subject.startswith("rejects:")]
    assert len(rejections) == len(step.wrong_answers)
    assert len(set(rejections)) == len(rejections), rejections


# Wrong answers of our own, beyond the ones the content ships: each must fail, and say why.
GOOD_UPDATE = """
def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.delete(f"product:{product_id}:details")
    return record
"""
EXTRA_WRONG = {
    # Not in wrong/: verify's parallel lanes share a Docker or --url server by database, and
    # FLUSHALL would empty the other lanes' databases (see checking/proofs.py).
    "flushall": (
        """
import json
CACHE_TTL_SECONDS = 300
def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record
def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.flushall()
    return record
""",
        "other-entries-survive",
        "every key in every database on the server",
    ),
    "set-then-expire": (
        """
import json
CACHE_TTL_SECONDS = 300
def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record))
        client.expire(key, CACHE_TTL_SECONDS)
    return record
"""
        + GOOD_UPDATE,
        "cached-as-json-with-ttl",
        "two round trips",
    ),
    "wrong-key-name": (
        """
import json
CACHE_TTL_SECONDS = 300
def get_product_details(client, db, product_id):
    key = f"product:{product_id}"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record
"""
        + GOOD_UPDATE,
        "cached-as-json-with-ttl",
        "found product:P124 instead",
    ),
    "in-process-dict": (
        """
import json
CACHE_TTL_SECONDS = 300
_LOCAL = {}
def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    if key in _LOCAL:
        return _LOCAL[key]
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
        _LOCAL[key] = record
    return record
"""
        + GOOD_UPDATE,
        "hit-skips-database",
        "dict inside your process",
    ),
    "ttl-zero": (
        "CACHE_TTL_SECONDS = 0\n",
        "ttl-setting",
        "invalid expire time",
    ),
    "ttl-a-week": (
        "CACHE_TTL_SECONDS = 7 * 86400\n",
        "ttl-setting",
        "more than a day",
    ),
    "raises-for-unknown": (
        """
import json
CACHE_TTL_SECONDS = 300
def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return dict(record)
"""
        + GOOD_UPDATE,
        "unknown-product",
        "TypeError",
    ),
}


STEP_03_REST = """
def extend_ttl(client, key, seconds):
    return bool(client.expire(key, seconds))
def make_persistent(client, key):
    return bool(client.persist(key))
def update_keep_ttl(client, key, value):
    client.set(key, value, keepttl=True)
def ttl_status(client, key):
    return {-2: "missing", -1: "persistent"}.get(client.ttl(key), "expiring")
"""
EXTRA_WRONG_OTHER_STEPS = {
    "ttl-persist: pipeline without MULTI": (
        "ttl-persist",
        """
def cache_with_ttl(client, key, value, seconds):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, value)
    pipe.expire(key, seconds)
    pipe.execute()
"""
        + STEP_03_REST,
        "cache-with-ttl",
        "in one pipeline without MULTI/EXEC",
    ),
    "eviction: allkeys-random for a pure cache": (
        "eviction",
        (load_module("module3").step("eviction").solution.read_text()).replace(
            'POLICY_CACHE_ONLY: str = "allkeys-lru"', 'POLICY_CACHE_ONLY: str = "allkeys-random"'
        ),
        "policy-choices",
        "ignores how keys are used",
    ),
    "eviction: not a policy": (
        "eviction",
        (load_module("module3").step("eviction").solution.read_text()).replace(
            'POLICY_HOT_KEYS: str = "allkeys-lfu"', 'POLICY_HOT_KEYS: str = "lfu"'
        ),
        "policy-choices",
        "is not a Valkey policy",
    ),
    "tracking: returns something that is not a client": (
        "tracking",
        "def connect_with_client_cache(**kwargs):\n    return dict(kwargs)\n",
        "local-hits",
        "expected a valkey.Valkey",
    ),
}


@pytest.mark.parametrize("name", sorted(EXTRA_WRONG_OTHER_STEPS))
def test_more_wrong_answers_in_other_steps_are_rejected(
    name: str, tmp_path: Path, server: ServerInfo
) -> None:
    slug, source, check_id, says = EXTRA_WRONG_OTHER_STEPS[name]
    step = load_module("module3").step(slug)
    path = tmp_path / step.exercise_filename
    path.write_text(source)
    result = run_step_checks(step, path, server.url)
    failed = {c.id: c.message for c in result.checks if not c.passed}
    assert check_id in failed, failed
    assert says in failed[check_id]


@pytest.mark.parametrize("name", sorted(EXTRA_WRONG))
def test_more_wrong_cache_aside_answers_are_rejected(
    name: str, tmp_path: Path, server: ServerInfo
) -> None:
    source, check_id, says = EXTRA_WRONG[name]
    path = tmp_path / "02_cache_aside.py"
    path.write_text(source)
    result = run_step_checks(load_module("module3").step("cache-aside"), path, server.url)
    assert not result.passed
    failed = {c.id: c.message for c in result.checks if not c.passed}
    assert check_id in failed, failed
    assert says in failed[check_id]


@pytest.mark.parametrize(
    ("wrong", "rounds"),
    [("keepttl_pttl_write_back.py", False), ("keepttl_read_then_write.py", True)],
)
def test_ttl_write_back_mentions_rounding_only_for_seconds(
    wrong: str, rounds: bool, tmp_path: Path, server: ServerInfo
) -> None:
    # PTTL and PX count milliseconds: "TTL rounds to whole seconds" is only true of TTL/EX.
    step = load_module("module3").step("ttl-persist")
    path = tmp_path / step.exercise_filename
    path.write_text((step.folder / "wrong" / wrong).read_text())
    result = run_step_checks(step, path, server.url)
    message = next(c.message for c in result.checks if c.id == "update-keeps-ttl")
    assert "not atomic" in message
    assert ("rounds to whole seconds" in message) is rounds, message
