"""``--memory-limit`` / WORKSHOP_MEMORY_LIMIT on the commands that run learner code."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module

runner = CliRunner()
CACHE_ASIDE = load_module("module3").step("cache-aside")
UPDATE = "def update_product(client, db, product_id: str, changes: dict) -> dict:\n"


@pytest.mark.parametrize("command", ["check", "verify", "start", "watch"])
@pytest.mark.parametrize("size", ["lots", "1M"])
def test_a_bad_memory_limit_is_a_usage_error(
    command: str, size: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKSHOP_MEMORY_LIMIT", raising=False)
    result = runner.invoke(app, [command, "module3", "--memory-limit", size])
    assert result.exit_code == 2, result.output
    assert "--memory-limit" in result.stderr
    assert "Traceback" not in result.output


def test_the_limit_from_the_environment_is_named_when_code_exceeds_it(
    hermetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKSHOP_MEMORY_LIMIT", "128M")
    target = hermetic / "module3" / "02_cache_aside.py"
    target.parent.mkdir(parents=True)
    code = CACHE_ASIDE.solution.read_text(encoding="utf-8")
    target.write_text(code.replace(UPDATE, UPDATE + "    hog = bytearray(400 << 20)\n"))
    result = runner.invoke(app, ["check", "module3", "02", "--backend", "embedded"])
    assert result.exit_code == 1, result.output
    assert "MemoryError" in result.stdout
    assert "at most 128 MiB" in result.stdout

    # The option wins over the environment.
    result = runner.invoke(
        app, ["check", "module3", "02", "--backend", "embedded", "--memory-limit", "2G"]
    )
    assert result.exit_code == 0, result.output
