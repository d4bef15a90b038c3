"""Content proves itself: starters fail, solutions pass, wrong answers fail for the declared
reason, accepted styles pass, demos run. The same proofs as `workshop verify`."""

from __future__ import annotations

from pathlib import Path

import pytest

from valkey_workshop.checking import run_step_checks
from valkey_workshop.content import load_module
from valkey_workshop.operations import verify_step
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


def test_each_wrong_answer_has_its_own_message(server: ServerInfo) -> None:
    for step in load_module("module3").steps:
        messages = []
        for wrong in step.wrong_answers:
            result = run_step_checks(step, wrong.file, server.url)
            messages.append(next(c.message for c in result.checks if c.id == wrong.fails))
        assert len(set(messages)) == len(messages), step.slug


# Wrong answers of our own, beyond the ones the content ships: each must fail, and say why.
GOOD_UPDATE = """
def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.delete(f"product:{product_id}:details")
    return record
"""
EXTRA_WRONG = {
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
