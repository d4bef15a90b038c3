"""Every ``--json`` document has the envelope and exactly the keys docs/json-format.md lists."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.test_mutants_rendering import report as mutants_report
from valkey_workshop.classroom.membership import ClassPublisher
from valkey_workshop.classroom.serve import serve_class
from valkey_workshop.cli.app import app
from valkey_workshop.content import Module, load_module
from valkey_workshop.results.envelope import JSON_FORMAT, json_document
from valkey_workshop.server.embedded import free_loopback_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "json-format.md"
runner = CliRunner()


def documented() -> dict[str, list[dict[str, str]]]:
    """Each section of the page (its heading's command, or "" for the envelope) → its tables,
    each as {key: meaning}."""
    sections: dict[str, list[dict[str, str]]] = {"": []}
    current = ""
    table: dict[str, str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"## `workshop (.+?) --json`", line):
            current = heading.group(1)
            sections[current] = []
            table = None
        elif row := re.match(r"\| `(\w+)` \| [^|]+ \| (.*) \|$", line):
            if table is None:
                table = {}
                sections[current].append(table)
            table[row.group(1)] = row.group(2)
        elif not line.startswith("|"):
            table = None
    return sections


def inline_keys(meaning: str) -> set[str]:
    """The keys an array's meaning lists after its colon: "...: `id`, `ok`"."""
    return set(re.findall(r"`(\w+)`", meaning.rsplit(":", 1)[1]))


def envelope_of(document: dict[str, Any], command: str) -> dict[str, Any]:
    """The document without its envelope, once the envelope is checked."""
    head = list(document)[:3]
    assert head == ["format", "version", "command"], head
    assert document["format"] == JSON_FORMAT == 1
    assert document["version"] == importlib.metadata.version("valkey-workshop")
    assert document["command"] == command
    return {key: value for key, value in document.items() if key not in head}


def test_the_envelope_is_documented_first() -> None:
    assert list(documented()[""][0]) == ["format", "version", "command"]


def test_a_body_cannot_shadow_the_envelope() -> None:
    with pytest.raises(ValueError, match="envelope"):
        json_document("check", {"version": "mine"})


def test_check_json_has_the_envelope_the_documented_keys_and_keeps_the_spec_keys(
    hermetic: Path,
) -> None:
    target = hermetic / "module3" / "02_cache_aside.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(load_module("module3").step("cache-aside").solution, target)
    result = runner.invoke(app, ["check", "module3", "02", "--backend", "embedded", "--json"])
    assert result.exit_code == 0, result.output
    body = envelope_of(json.loads(result.stdout), "check")
    top, step, check = documented()["check MODULE [STEP]"]
    assert set(body) == set(top)
    # shared/spec/cli.md names these: the envelope adds keys, it renames none.
    assert {"module", "backend", "server_version", "steps"} <= set(body)
    assert set(body["steps"][0]) == set(step)
    assert set(body["steps"][0]["checks"][0]) == set(check)
    calls = [call for entry in body["steps"][0]["checks"] for call in entry["calls"]]
    assert calls and all(set(call) == inline_keys(check["calls"]) for call in calls)


def test_list_json_documents_the_modules_and_a_module(hermetic: Path, module3: Module) -> None:
    sections = documented()
    every = runner.invoke(app, ["list", "--json"])
    assert every.exit_code == 0, every.output
    body = envelope_of(json.loads(every.stdout), "list")
    (top,) = sections["list"]
    assert set(body) == set(top)
    assert {"id": "module3", "title": module3.title, "steps": len(module3.steps)} in body["modules"]
    assert set(body["modules"][0]) == inline_keys(top["modules"])

    runner.invoke(app, ["skip", "module3", "bottleneck"])
    one = runner.invoke(app, ["list", "module3", "--json"])
    assert one.exit_code == 0, one.output
    body = envelope_of(json.loads(one.stdout), "list")
    top, step = sections["list MODULE"]
    assert set(body) == set(top)
    assert set(body["steps"][0]) == set(step)
    assert (body["steps"][0]["status"], body["next_step"]) == ("skipped", 2)


def test_doctor_json_has_the_documented_keys() -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code in (0, 1), result.output
    body = envelope_of(json.loads(result.stdout), "doctor")
    (top,) = documented()["doctor"]
    assert set(body) == set(top)
    assert set(body["items"][0]) == inline_keys(top["items"])
    assert body["ok"] is (result.exit_code == 0)


def test_mutants_json_has_the_documented_keys(module3: Module) -> None:
    body = envelope_of(mutants_report(module3).to_json(), "verify --mutants")
    top, step = documented()["verify MODULE [STEP] --mutants"]
    assert set(body) == set(top)
    first = body["steps"][0]
    assert set(first) == set(step)
    assert set(first["mutants"][0]) == inline_keys(step["mutants"])
    assert set(first["stale_declarations"][0]) == inline_keys(step["stale_declarations"])


def test_class_board_json_has_the_envelope_and_the_documented_keys(tmp_path: Path) -> None:
    sections = documented()
    listen = f"127.0.0.1:{free_loopback_port()}"  # the default port may be another's
    with serve_class(
        tmp_path / "class", listen=listen, advertise=None, module="module3", backend="embedded"
    ) as served:
        ClassPublisher(tmp_path / "learner").join(served.config.join_code(), "Ada")
        folder = ["--class-dir", str(served.folder)]
        board = runner.invoke(app, ["class", "board", "--json", *folder])
        assert board.exit_code == 0, board.output
        one = runner.invoke(app, ["class", "board", "--learner", "Ada", "--json", *folder])
        assert one.exit_code == 0, one.output
    body = envelope_of(json.loads(board.stdout), "class board")
    (top,) = sections["class board"]
    assert set(body) == set(top)
    for key in ("steps", "failing_checks", "stuck", "hands"):
        for entry in body[key]:
            assert set(entry) == inline_keys(top[key]), key
    learner_top, row = sections["class board --learner NAME"]
    rows = envelope_of(json.loads(one.stdout), "class board --learner")
    assert set(rows) == set(learner_top)
    assert rows["rows"] and all(set(entry) == set(row) for entry in rows["rows"])
    assert [entry["name"] for entry in rows["rows"]] == ["Ada"]
    assert body["learners"] and all(set(entry) == set(row) for entry in body["learners"])
