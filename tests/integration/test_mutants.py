"""``workshop verify MODULE --mutants`` on a one-step module written here, on a real server."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import valkey
from typer.testing import CliRunner, Result

from valkey_workshop.cli.app import app
from valkey_workshop.mutation.operators import generate
from valkey_workshop.mutation.strays import stray_keys_removed
from valkey_workshop.server.base import ServerInfo

runner = CliRunner()

SOLUTION = '''\
"""Fixture step: a value with a TTL, and a delete."""


def cache_with_ttl(client, key, value, seconds):
    """Store `value` at `key`, expiring after `seconds`, in one command."""
    client.set(key, value, ex=seconds)


def remove(client, key):
    """Remove `key`; its memory is freed in the background."""
    client.unlink(key)
'''

STARTER = """\
def cache_with_ttl(client, key, value, seconds):
    raise NotImplementedError


def remove(client, key):
    raise NotImplementedError
"""

CHECKS = """\
from valkey_workshop.checking import faults
from valkey_workshop.checking.api import CheckContext, check

KEY = "workshop:mutants:key"


@check("stores", "cache_with_ttl stores the value, replacing an old one")
def stores(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "old")
    ctx.call("cache_with_ttl", ctx.client, KEY, "new", 100)
    value = ctx.server.get(KEY)
    ctx.require(value == "new", f"the value is {value!r}; expected 'new'.")


@check("ttl", "cache_with_ttl sets a TTL of `seconds`")
def ttl(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.call("cache_with_ttl", ctx.client, KEY, "v", 100)
    seconds = ctx.server.ttl(KEY)
    ctx.require(90 <= seconds <= 100, f"the TTL is {seconds}; expected about 100 s.")


@check("one-command", "value and TTL travel in one command")
def one_command(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.call("cache_with_ttl", ctx.client, KEY, "v", 100)
    calls = ctx.learner_calls()
    ctx.require(len(calls) == 1, f"{len(calls)} commands; expected 1.")


@check("removes", "remove deletes the key")
def removes(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "v")
    ctx.call("remove", ctx.client, KEY)
    ctx.require(ctx.server.exists(KEY) == 0, "the key is still there.")


@check("failures", "a dropped connection reaches the caller")
def failures(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    store = ctx.implementation("cache_with_ttl")
    remove = ctx.implementation("remove")
    faults.require_failure_reaches_caller(
        ctx, "cache_with_ttl()", lambda client: store(client, KEY, "v", 100), why="not stored"
    )
    faults.require_failure_reaches_caller(
        ctx, "remove()", lambda client: remove(client, KEY), why="not removed"
    )
"""

#: The first check each kind of mutant fails (each fails exactly one check).
KILLED_BY = {
    "drop-keyword": "ttl",
    "time-unit": "ttl",
    "set-then-expire": "one-command",
    "delete-noop": "removes",
    "swallow-exception": "failures",
}

IDS = {m.description: m.id for m in generate(SOLUTION).mutants}
UNLINK_TO_DELETE = IDS["unlink(...) → delete(...)"]
DROP_EX = IDS["drop ex=seconds"]


def write_module(root: Path, declarations: list[tuple[str, str]]) -> None:
    module = root / "mutlab"
    step = module / "01_ttl"
    step.mkdir(parents=True)
    (module / "module.toml").write_text(
        textwrap.dedent(
            """\
            format_version = 1
            title = "Mutation fixture"
            summary = "One step."

            [[sections]]
            id = "only"
            title = "Only"
            minutes = 5

            [[steps]]
            number = 1
            slug = "ttl"
            section = "only"
            """
        ),
        encoding="utf-8",
    )
    toml = 'title = "TTL"\nhints = ["Use ex=."]\n'
    for mutant_id, why in declarations:
        toml += f'\n[[equivalent_mutants]]\nid = "{mutant_id}"\nwhy = "{why}"\n'
    (step / "step.toml").write_text(toml, encoding="utf-8")
    (step / "lesson.md").write_text("# TTL\n", encoding="utf-8")
    (step / "demo.py").write_text("def run(demo):\n    pass\n", encoding="utf-8")
    (step / "starter.py").write_text(STARTER, encoding="utf-8")
    (step / "solution.py").write_text(SOLUTION, encoding="utf-8")
    (step / "checks.py").write_text(CHECKS, encoding="utf-8")


@pytest.fixture
def labs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "labs"
    monkeypatch.setenv("WORKSHOP_LABS_DIR", str(root))
    return root


def mutants_run(server: ServerInfo, *extra: str) -> Result:
    return runner.invoke(app, ["verify", "mutlab", "--mutants", "--url", server.url, *extra])


def as_json(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_all_killed_or_declared_exits_0(labs: Path, server: ServerInfo) -> None:
    write_module(labs, [(UNLINK_TO_DELETE, "DEL of a one-field key frees as fast as UNLINK")])
    client = valkey.Valkey.from_url(server.url)
    client.set("someone:else", "kept")
    try:
        # Mutants are wrong answers: on a --url server holding someone else's key, none runs.
        refused = mutants_run(server, "ttl", "--json")
        assert refused.exit_code == 2, refused.output
        assert "holds 1 other key" in refused.output
        assert "Nothing was changed" in refused.output
        assert client.get("someone:else") == b"kept"
    finally:
        client.delete("someone:else")
    try:
        result = mutants_run(server, "ttl", "--json")  # one step, named
        # The swap-arguments mutant wrote keys named after values; they are gone.
        assert client.exists("new", "v") == 0
    finally:
        client.close()
    assert result.exit_code == 0, result.output
    report = as_json(result)
    assert report["module"] == "mutlab"
    (step,) = report["steps"]
    assert step["slug"] == "ttl"
    mutants = step["mutants"]
    assert len(mutants) == step["generated"] == len(IDS)
    assert set(mutants[0]) >= {"id", "operator", "line", "outcome", "killed_by"}
    assert report["total"] == len(mutants)
    assert report["declared_equivalent"] == 1
    assert report["survived"] == 0
    assert report["killed"] == len(mutants) - 1
    for mutant in mutants:
        if mutant["id"] == UNLINK_TO_DELETE:
            assert (mutant["outcome"], mutant["killed_by"]) == ("equivalent", None)
            assert mutant["line"] == 11
            continue
        assert mutant["outcome"] == "killed"
        expected = KILLED_BY.get(mutant["operator"])
        if expected:
            assert mutant["killed_by"] == expected, mutant
    assert step["stale_declarations"] == []
    assert step["notes"] == []


def test_a_survivor_and_broken_declarations_exit_1_and_are_named(
    labs: Path, server: ServerInfo
) -> None:
    stale = "drop-keyword:cache_with_ttl:000000"
    write_module(
        labs,
        [
            (stale, "a mutant that no longer exists"),
            (DROP_EX, "a wrong declaration: without ex the key never expires"),
        ],
    )
    result = mutants_run(server)
    assert result.exit_code == 1, result.output
    out = " ".join(result.stdout.split())  # the table wraps long cells
    assert f"{UNLINK_TO_DELETE} ✗ SURVIVED unlink(...) → delete(...)" in out
    assert "✓ killed by one-command" in out
    assert f"✗ [[equivalent_mutants]] {stale}: stale: no mutant has this id" in out
    assert f"✗ [[equivalent_mutants]] {DROP_EX}: declared equivalent, but check ttl rejects" in out
    assert "12 mutants, 11 killed, 0 declared equivalent, 1 survived: score 91.7%" in out
    assert "2 declarations to fix ✗ FAIL" in out
    assert "01 ttl: 12 mutants: 11 killed, 0 declared equivalent, 1 survived" in result.stderr


def test_usage_errors_exit_2(labs: Path) -> None:
    write_module(labs, [])
    no_module = runner.invoke(app, ["verify", "--mutants"])
    assert no_module.exit_code == 2
    assert "--mutants needs a module" in no_module.stderr
    json_alone = runner.invoke(app, ["verify", "mutlab", "--json"])
    assert json_alone.exit_code == 2
    assert "--json goes with --mutants" in json_alone.stderr
    unknown = runner.invoke(app, ["verify", "mutlab", "nope", "--mutants"])
    assert unknown.exit_code == 2
    assert "Unknown step" in unknown.stderr


def test_stray_keys_go_in_every_database_and_older_keys_stay(server: ServerInfo) -> None:
    db0 = valkey.Valkey.from_url(server.url)
    db5 = valkey.Valkey.from_url(server.url.rsplit("/", 1)[0] + "/5")
    try:
        db0.set("before:run", 1)
        with stray_keys_removed(server.url):
            db0.set("stray:zero", 1)
            db5.set("stray:five", 1)
            db0.set("before:run", 2)  # changed, not created: stays
        assert db0.exists("stray:zero") == 0
        assert db5.exists("stray:five") == 0
        assert db0.get("before:run") == b"2"
    finally:
        db0.delete("before:run", "stray:zero")
        db5.delete("stray:five")
        db0.close()
        db5.close()
