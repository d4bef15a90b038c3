"""The ``workshop cli`` prompt opened from inside the guided session (a key), on the session's
own server, until Ctrl-D (or Ctrl-C) returns to the session.

The guard is the prompt's own: on a ``--url`` server, commands that write others' keys or
change settings are refused (``workshop cli --allow-writes`` is the way to run them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from valkey_workshop.commands.cli_prompt import Prompt
from valkey_workshop.render import out_console
from valkey_workshop.render.console import message
from valkey_workshop.render.prompt import reply_view
from valkey_workshop.server.base import ServerInfo

#: The history file in the workdir, shared with ``workshop cli``.
HISTORY = ".cli-history"


def address(url: str) -> str:
    """``host:port`` of a server URL, without the password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


def typed_lines(prompt: str, history: Path) -> Iterator[str]:
    """Lines typed at a terminal, with line editing and a history kept in ``history``; ends
    on Ctrl-D or Ctrl-C."""
    try:
        import readline  # noqa: PLC0415 - line editing where the platform has it
    except ImportError:  # native Windows: plain input()
        readline = None  # type: ignore[assignment] # no line editing there
    if readline is not None:
        # The file's history only, not an earlier prompt's in this session again (the
        # function exists where the library has it).
        getattr(readline, "clear_history", lambda: None)()
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    try:
        while True:
            try:
                yield input(prompt)
            except (EOFError, KeyboardInterrupt):
                print()
                return
    finally:
        if readline is not None:
            with contextlib.suppress(OSError):
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.set_history_length(1000)
                readline.write_history_file(history)


def run_lab_prompt(server: ServerInfo, workdir: Path) -> None:
    """Valkey commands typed against ``server``, each reply with its latency, until Ctrl-D."""
    console = out_console()
    prompt = Prompt(server)
    message("Type Valkey commands; each reply shows its latency. Ctrl-D goes back to the step.")
    try:
        for reply in prompt.run_all(typed_lines(f"{address(server.url)}> ", workdir / HISTORY)):
            console.print(reply_view(reply), soft_wrap=True)
        if prompt.ended:
            message("The server no longer answers; the next check restarts it.")
    finally:
        prompt.close()
