"""The trainer's use cases on a running class: open the board, tell the room something, lower
a learner's hand. Connections and their errors are mapped here, to one clear line each."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import valkey

from valkey_workshop import naming
from valkey_workshop.classroom import board as boards
from valkey_workshop.classroom.config import ENDED_FILE, ClassConfig, announce_key, events_key
from valkey_workshop.classroom.events import clean_text
from valkey_workshop.content.loader import load_module
from valkey_workshop.errors import ServerError, UsageError

MAX_SAY_CHARS = 200


def load_class(folder: Path) -> ClassConfig:
    """The class in ``folder``.

    Raises:
        UsageError: there is none (or its file cannot be read).
    """
    config = ClassConfig.load(folder)
    if config is None:
        raise UsageError(f"No class in {folder}: start one with `{naming.program()} class serve`.")
    return config


def trainer_client(config: ClassConfig, timeout: float = 3.0) -> valkey.Valkey:
    return valkey.Valkey.from_url(
        config.trainer_url(), socket_timeout=timeout, socket_connect_timeout=timeout
    )


def _server_error(folder: Path, error: Exception) -> ServerError:
    if isinstance(error, valkey.AuthenticationError):
        return ServerError(f"The class server refused the trainer's password ({error}).")
    if isinstance(error, valkey.ConnectionError | valkey.TimeoutError):
        return ServerError(
            f"The class server of {folder} is not answering ({error}); is "
            f"`{naming.program()} class serve` running?"
        )
    return ServerError(f"The class server of {folder} answered {error}.")


def open_board(
    folder: Path,
    stuck_minutes: float = boards.DEFAULT_STUCK_MINUTES,
    idle_minutes: float = boards.DEFAULT_IDLE_MINUTES,
) -> tuple[boards.ClassBoard, valkey.Valkey | None]:
    """The class's board, read up to now, and the trainer's connection for later refreshes;
    for a class that ended (``class end``), its final board from the folder and no
    connection.

    Raises:
        UsageError: no class in ``folder``.
        ServerError: its server does not answer, or refuses the trainer.
    """
    config = load_class(folder)
    module = load_module(config.module)
    board = boards.ClassBoard(
        config, module, boards.check_names(module), stuck_minutes, idle_minutes
    )
    ended = folder / ENDED_FILE
    if ended.is_file():
        try:
            text = ended.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"Cannot read {ended}: {error.strerror}.") from None
        if not board.load_final(text):
            raise UsageError(f"{ended} is not a class's final board (damaged).")
        return board, None
    client = trainer_client(config)
    try:
        board.refresh(client)
    except valkey.ValkeyError as error:
        client.close()
        raise _server_error(folder, error) from error
    return board, client


def say(folder: Path, text: str) -> str:
    """Set the announcement every learner's next check (session, watch, check) shows.

    Raises:
        UsageError: no class, or an empty text.
        ServerError: the class server does not answer.
    """
    shown = clean_text(text, MAX_SAY_CHARS)
    if not shown:
        raise UsageError(f"class say: give a text of 1 to {MAX_SAY_CHARS} printable characters.")
    config = load_class(folder)
    client = trainer_client(config)
    try:
        client.set(
            announce_key(config.class_id),
            json.dumps({"id": uuid.uuid4().hex, "at": time.time(), "text": shown}),
        )
    except valkey.ValkeyError as error:
        raise _server_error(folder, error) from error
    finally:
        client.close()
    return shown


def clear_hand(folder: Path, name: str) -> list[str]:
    """Lower the hand of the learner(s) called ``name``; returns the names shown.

    Raises:
        UsageError: no class, or no learner of that name with a raised hand.
        ServerError: the class server does not answer.
    """
    return _about_learners(
        folder,
        name,
        "clear",
        hands_only=True,
        missing="has a hand up (the board shows the names; a shared name has its word in "
        "brackets).",
    )


def _open_running(folder: Path) -> tuple[boards.ClassBoard, valkey.Valkey]:
    board, client = open_board(folder)
    if client is None:
        raise UsageError(
            f"The class in {folder} has ended (`{naming.program()} class end`); serve it "
            "again to change it."
        )
    return board, client


def remove_learner(folder: Path, name: str) -> list[str]:
    """Remove the learner(s) called ``name`` from the class: the class server deletes their
    users (they can send nothing more) and frees their seats; the board hides their rows.
    Returns the names shown.

    Raises:
        UsageError: no class, or no learner of that name.
        ServerError: the class server does not answer.
    """
    return _about_learners(
        folder,
        name,
        "remove",
        hands_only=False,
        missing="in this class (the board shows the names; a shared name has its word in "
        "brackets, or give the id).",
    )


def _about_learners(
    folder: Path, name: str, kind: str, *, hands_only: bool, missing: str
) -> list[str]:
    """Post one trainer event of ``kind`` about each learner called ``name`` (only those with
    a hand up, with ``hands_only``); the names shown. A name that matches nobody is a usage
    error ending with ``missing``."""
    board, client = _open_running(folder)
    try:
        rows = [
            row
            for row in board.snapshot().find(name)
            if not hands_only or row.hand_minutes is not None
        ]
        if not rows:
            raise UsageError(f"No learner called {clean_text(name, 40)!r} {missing}")
        for row in rows:
            client.xadd(
                events_key(board.config.class_id),
                {
                    "v": "2",
                    "id": uuid.uuid4().hex,
                    "kind": kind,
                    "learner_id": row.learner_id,
                    "target": row.learner_id,
                },
            )
    except valkey.ValkeyError as error:
        raise _server_error(folder, error) from error
    finally:
        client.close()
    return [row.shown_name for row in rows]


def class_progress(folder: Path) -> Callable[[int], str | None] | None:
    """For the presenter: a function giving ``step 02: 18/25 passed`` when a class is served
    from ``folder``; None when there is no class there. Never raises once made."""
    try:
        config = ClassConfig.load(folder)
    except UsageError:
        return None
    if config is None:
        return None
    board = boards.ClassBoard(config, load_module(config.module))

    def line(number: int) -> str | None:
        client = trainer_client(config, timeout=0.5)
        try:
            board.refresh(client)
        except (valkey.ValkeyError, OSError):
            return None  # the class server is down: the presenter shows nothing, no error
        finally:
            client.close()
        return board.snapshot().step_line(number)

    return line
