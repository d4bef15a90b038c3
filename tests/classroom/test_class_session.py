"""A learner in a class, in a real guided session (pseudo-terminal): ! raises a hand on the
board, and what the trainer says shows up between keys."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.pty.test_guided_session import QUIT_KEY, finish, shown, spawn
from valkey_workshop.classroom.membership import ClassPublisher
from valkey_workshop.classroom.serve import serve_class
from valkey_workshop.cli.app import app
from valkey_workshop.server.embedded import free_loopback_port

pytestmark = pytest.mark.pty
runner = CliRunner()


def test_the_help_key_raises_a_hand_and_the_trainer_is_heard(
    hermetic: Path, tmp_path: Path
) -> None:
    listen = f"127.0.0.1:{free_loopback_port()}"
    with serve_class(tmp_path / "class", listen=listen, advertise=None, module="module3") as s:
        folder = ["--class-dir", str(s.folder)]
        code = s.config.join_code().encode()
        assert runner.invoke(app, ["join", code, "--name", "Ada"]).exit_code == 0
        child = spawn("start", "module3", workdir=hermetic)
        child.expect(QUIT_KEY)
        child.send("!")
        child.expect(shown("Hand raised on the class board."))
        assert runner.invoke(app, ["class", "say", "Lunch at noon", *folder]).exit_code == 0
        child.expect(shown("Trainer: Lunch at noon"))  # within the watcher's 10 s
        child.send("q")
        assert finish(child) == 0
        publisher = ClassPublisher(hermetic)
        deadline = time.monotonic() + 60
        while True:  # the hand may wait in the outbox a moment (the relay takes a batch)
            publisher.publish([], background=False)
            assert s.relay.wait_passes(2)
            board = runner.invoke(app, ["class", "board", "--json", *folder])
            if json.loads(board.stdout)["hands"]:
                break
            assert time.monotonic() < deadline
        assert [hand["name"] for hand in json.loads(board.stdout)["hands"]] == ["Ada"]
