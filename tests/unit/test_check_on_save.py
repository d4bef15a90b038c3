"""Checking on save in ``start``: a save is a check while it is on, and nothing while it is off.

The keys come from a scripted reader (no key: the loop looks at the file, as between presses);
the session, its workdir and its server are real.
"""

from __future__ import annotations

import os
from pathlib import Path

from valkey_workshop.content import Module
from valkey_workshop.interactive.guided import GuidedSession
from valkey_workshop.interactive.keys import KeyReader
from valkey_workshop.interactive.learner import SAVED, LearnerLoop
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.session.workdir import Workdir


class ScriptedKeys(KeyReader):
    """No key for ``idle`` reads (each one a pass of the loop over the file), then ``key``."""

    def __init__(self, idle: int, key: str) -> None:
        super().__init__()
        self.script: list[str | None] = [None] * idle + [key]

    def read(self, timeout: float) -> str | None:
        return self.script.pop(0)


def _saved(exercise: Path) -> None:
    exercise.write_text(exercise.read_text() + "\n# saved\n")
    stat = exercise.stat()  # a later mtime, whatever the file system's clock resolution
    os.utime(exercise, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_save_is_a_check_unless_check_on_save_is_off(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    session = GuidedSession(module3, Workdir(tmp_path / "w"), server)
    loop = LearnerLoop(session, watch=False)
    assert loop.check_on_save  # on by default, as rustlings does
    loop.present()  # the step on screen: the file as it is now is not a save
    assert loop._next_key(ScriptedKeys(3, "x")) == "x"
    _saved(session.exercise)
    assert loop._next_key(ScriptedKeys(3, "x")) == SAVED
    loop.toggle_check_on_save()
    assert not loop.check_on_save
    _saved(session.exercise)
    assert loop._next_key(ScriptedKeys(3, "x")) == "x"  # the save did not check
    loop.toggle_check_on_save()
    assert loop._next_key(ScriptedKeys(3, "x")) == "x"  # nor later, once turned on again
    _saved(session.exercise)
    assert loop._next_key(ScriptedKeys(3, "x")) == SAVED


def test_with_check_on_save_off_from_the_start_a_save_is_no_check(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """``workshop start --no-check-on-save`` (or WORKSHOP_CHECK_ON_SAVE=0): only c checks."""
    session = GuidedSession(module3, Workdir(tmp_path / "w"), server)
    loop = LearnerLoop(session, watch=False, check_on_save=False)
    loop.present()
    _saved(session.exercise)
    assert loop._next_key(ScriptedKeys(3, "x")) == "x"  # three looks at the saved file
    loop.toggle_check_on_save()  # w: on, for the saves after it
    _saved(session.exercise)
    assert loop._next_key(ScriptedKeys(3, "x")) == SAVED
