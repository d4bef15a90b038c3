"""``workshop cli``: Valkey commands on the lab server, one reply and its latency each, from a
pipe and at a terminal; a --url server is guarded; the password is never shown."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
import valkey
from typer.testing import CliRunner

from tests.conftest import exit_status_of
from valkey_workshop.cli.app import app
from valkey_workshop.commands.cli_prompt import Prompt
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.embedded import EmbeddedBackend

runner = CliRunner()
LATENCY = r"\((\d+\.\d+ µs|\d+\.\d+ ms|\d+\.\d+ s)\)"
#: At a terminal the latency is dimmed (a style, which NO_COLOR keeps).
STYLED = r"(?:\x1b\[[0-9;]*m)*"


@pytest.fixture
def their_server() -> Iterator[tuple[ServerInfo, valkey.Valkey]]:
    """A server the workshop did not start, holding an application's keys."""
    with EmbeddedBackend() as info:
        client = valkey.Valkey.from_url(info.url)
        client.mset({f"app:{i}": "precious" for i in range(50)})
        yield info, client
        client.close()


def test_a_pipe_gets_one_reply_and_latency_per_command(hermetic: Path) -> None:
    commands = [
        "SET workshop:greeting 'hello there'",
        "",
        "# a comment is skipped",
        "GET workshop:greeting",
        "RPUSH workshop:list a b c",
        "LRANGE workshop:list 0 -1",
        "GET workshop:missing",
        "CONFIG GET requirepass",
        "NOSUCHCOMMAND",
    ]
    result = runner.invoke(app, ["cli", "--backend", "embedded"], input="\n".join(commands))
    assert result.exit_code == 1, result.output  # one command failed
    out = result.stdout
    lines = out.splitlines()
    assert re.fullmatch(rf"OK  {LATENCY}", lines[0]), lines[0]
    assert re.fullmatch(rf'"hello there"  {LATENCY}', lines[1]), lines[1]
    assert re.fullmatch(rf"\(integer\) 3  {LATENCY}", lines[2]), lines[2]
    assert lines[3:6][:2] == ['1) "a"', '2) "b"'] and re.fullmatch(rf'3\) "c"  {LATENCY}', lines[5])
    assert re.fullmatch(rf"\(nil\)  {LATENCY}", lines[6]), lines[6]
    assert lines[7] == '1) "requirepass"' and re.fullmatch(rf'2\) "\*\*\*"  {LATENCY}', lines[8])
    assert lines[9].startswith("(error) unknown command") and re.search(LATENCY, lines[9])
    assert len(re.findall(LATENCY, out)) == 7  # one per command, none for blanks or comments
    # The password is in no output at all, nor is the URL that carries it.
    assert "password protected" in result.stderr
    assert not re.search(r"valkey://:[0-9a-f]{8,}@", result.output)
    assert "***" in out


def test_a_url_server_is_guarded_against_writes_to_others_keys(
    their_server: tuple[ServerInfo, valkey.Valkey],
) -> None:
    info, client = their_server
    commands = [
        "GET app:1",
        "SET app:1 overwritten",
        "DEL app:2",
        "FLUSHALL",
        "CONFIG SET maxmemory 1mb",
        "CONFIG GET maxmemory",
        "SET workshop:mine 1",
    ]
    before = client.config_get("maxmemory")
    result = runner.invoke(app, ["cli", "--url", info.url], input="\n".join(commands))
    assert result.exit_code == 1, result.output
    out = " ".join(result.stdout.split())
    assert '"precious"' in out
    assert "(refused) SET writes app:1, not a workshop key" in out
    assert "(refused) DEL writes app:2, not a workshop key" in out
    assert "(refused) FLUSHALL changes the server" in out
    assert "(refused) CONFIG SET changes the server" in out
    assert out.count("rerun with --allow-writes") == 4
    assert '1) "maxmemory"' in result.stdout  # reading the settings is no change
    assert client.dbsize() == 51 and client.get("app:1") == b"precious"
    assert client.config_get("maxmemory") == before
    assert client.get("workshop:mine") == b"1"  # the workshop's own keys are fine

    allowed = runner.invoke(
        app, ["cli", "--url", info.url, "--allow-writes"], input="SET app:1 changed\n"
    )
    assert allowed.exit_code == 0, allowed.output
    assert "! SET writes app:1, not a workshop key: allowed by --allow-writes" in allowed.stdout
    assert client.get("app:1") == b"changed"


@pytest.mark.pty
def test_the_prompt_at_a_terminal_edits_lines_and_keeps_a_history(hermetic: Path) -> None:
    env = {
        **os.environ,
        "WORKSHOP_WORKDIR": str(hermetic),
        "TERM": "xterm",
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "valkey_workshop", "cli", "--backend", "embedded"],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 100),
    )
    child.expect(r"127\.0\.0\.1:\d+> ")
    child.sendline("SET workshop:typed 41")
    child.expect(rf"OK{STYLED}  {LATENCY}")
    child.expect(r"> ")
    # Up arrow brings the last line back; two backspaces and "99" edit it.
    child.send("\x1b[A")
    child.send("\x7f\x7f99\r")
    child.expect(rf"OK{STYLED}  {LATENCY}")
    child.sendline("INCR workshop:typed")
    child.expect(rf"\(integer\) 100{STYLED}  {LATENCY}")
    # The prompt first: a Ctrl-D before it can be lost (see test_guided_session).
    child.expect(r"> ")
    child.sendeof()
    assert exit_status_of(child) == 0
    history = (hermetic / ".cli-history").read_text()
    assert "SET workshop:typed 41" in history and "INCR workshop:typed" in history


def test_an_error_inside_a_transaction_s_replies_is_shown_as_an_error(server: ServerInfo) -> None:
    prompt = Prompt(server)
    try:
        replies = list(prompt.run_all(["MULTI", "SET workshop:tx abc", "INCR workshop:tx", "EXEC"]))
    finally:
        prompt.close()
    assert [reply.lines[0] for reply in replies[:3]] == ["OK", '"QUEUED"', '"QUEUED"']
    assert replies[3].lines == ("1) OK", "2) (error) value is not an integer or out of range")


def test_a_server_that_shuts_down_ends_the_prompt_with_one_line(hermetic: Path) -> None:
    commands = ["SET workshop:a 1", "SHUTDOWN NOSAVE", "GET workshop:a", "GET workshop:b"]
    result = runner.invoke(app, ["cli", "--backend", "embedded"], input="\n".join(commands))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK  (")
    assert lines[1:] == ["(error) Connection closed by server; the server is gone"]
    assert "Traceback" not in result.output
