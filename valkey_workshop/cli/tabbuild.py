"""Builds :mod:`valkey_workshop.cli.tabtable`, the command tree a Tab press answers from, out
of the Typer app itself (tests/cli/test_tab_fast_path.py keeps the two the same).

    python -m valkey_workshop.cli.tabbuild     # rewrite tabtable.py after changing a command

Imports Typer (the point of the table is that a Tab press does not); never imported on a
Tab press.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path
from typing import Any

import typer
import typer.main

from valkey_workshop.cli import completion

#: The shells whose completion lines show help texts, as Typer formats each help.
SHELLS = ("zsh", "fish", "powershell")
TABLE_FILE = Path(__file__).with_name("tabtable.py")

_HEADER = '''"""The command tree a Tab press answers from without importing Typer or Click
(:mod:`valkey_workshop.cli.tab`). Generated from the Typer app by
``python -m valkey_workshop.cli.tabbuild``; a test fails when the two differ. Do not edit.

Each node (a command path, "" for the program) holds its visible subcommands, its options and
its arguments in Click's order. A help text is kept as each shell shows it (Typer strips
Rich markup from it), computed at a width no line reaches. JSON: one string constant is
quicker to load than the code that builds the same dicts.
"""

import json
from typing import Any

TABLE_JSON = (
'''


_FOOTER = """TABLE: dict[str, dict[str, Any]] = json.loads(TABLE_JSON)
"""


def _shown(text: str | None) -> dict[str, str] | None:
    """``text`` as Typer's zsh, fish and PowerShell completions print it (without wrapping)."""
    if not text:
        return None
    from typer._completion_classes import _sanitize_help_text  # noqa: PLC0415 - Typer's own

    def zsh_escape(value: str) -> str:  # ZshComplete.format_completion's
        return (
            value.replace('"', '""')
            .replace("'", "''")
            .replace("$", "\\$")
            .replace("`", "\\`")
            .replace(":", r"\\:")
        )

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100000"  # Rich wraps at the console's width; here it never does
    try:
        return {
            "zsh": _sanitize_help_text(zsh_escape(text)),
            "fish": _sanitize_help_text(re.sub(r"\s", " ", text)),
            "powershell": _sanitize_help_text(text),
        }
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _completer(param: Any) -> Any:
    """What completes ``param``'s value: ``"module"``, ``"step"``, ``["choice", values]``,
    ``"file"`` (the word typed), or ``None`` (nothing)."""
    custom = getattr(param, "_custom_shell_complete", None)
    if custom is not None:
        names = custom.__code__.co_freevars
        # Typer wraps the function given as autocompletion= (functools.wraps).
        function = inspect.unwrap(custom.__closure__[names.index("autocompletion")].cell_contents)
        if function is completion.complete_module:
            return "module"
        if function is completion.complete_step:
            return "step"
        if "choices" in function.__code__.co_freevars:  # a complete_choice(choices)
            cell = function.__closure__[function.__code__.co_freevars.index("choices")]
            return ["choice", list(cell.cell_contents)]
        raise NotImplementedError(f"{param.name}: a completer the Tab table does not know")
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.is_choice:
        raise NotImplementedError(f"{param.name}: a choice type (use complete_choice)")
    if descriptor is not None and descriptor.is_file:
        return "file"
    return None


def _node(command: Any, ctx: Any) -> dict[str, Any]:
    options, arguments = [], []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            complete = _completer(param)
            arguments.append({"name": param.name, "nargs": param.nargs, "complete": complete})
            continue
        options.append(
            {
                "name": param.name,
                "opts": list(param.opts),
                "secondary": list(param.secondary_opts),
                "value": not (param.is_flag or param.count),
                "nargs": param.nargs,
                "hidden": bool(param.hidden),
                "multiple": bool(param.multiple),
                "complete": _completer(param),
                "help": _shown(param.help),
            }
        )
    node: dict[str, Any] = {
        "group": hasattr(command, "commands"),
        "options": options,
        "arguments": arguments,
    }
    if node["group"]:
        node["commands"] = [
            [name, _shown(sub.get_short_help_str())]
            for name in command.list_commands(ctx)
            if (sub := command.get_command(ctx, name)) is not None and not sub.hidden
        ]
    return node


def _quoted(piece: str) -> str:
    """A Python literal of ``piece`` (ASCII, as json.dumps writes) in ruff format's quotes:
    double, unless the piece holds more double quotes than single ones."""
    quote = "'" if piece.count('"') > piece.count("'") else '"'
    return quote + piece.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def build_table() -> dict[str, dict[str, Any]]:
    """The Tab table of the app as Typer builds it now."""
    from valkey_workshop.cli.app import app  # noqa: PLC0415 - builds the whole tree

    root = typer.main.get_command(app)
    table: dict[str, dict[str, Any]] = {}

    def walk(command: Any, path: str, ctx: Any) -> None:
        table[path] = _node(command, ctx)
        for name in getattr(command, "commands", {}):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                sub_ctx = typer.Context(sub, info_name=name, parent=ctx, resilient_parsing=True)
                walk(sub, f"{path} {name}".strip(), sub_ctx)

    walk(root, "", typer.Context(root, info_name="workshop", resilient_parsing=True))
    return table


def table_source() -> str:
    """The text of tabtable.py for the app as it is."""
    text = json.dumps(build_table(), separators=(",", ":"))
    # Implicitly joined pieces, each line within 100 columns, quoted as ruff format would.
    pieces = [text[start : start + 80] for start in range(0, len(text), 80)]
    body = "\n".join(f"    {_quoted(piece)}" for piece in pieces)
    return _HEADER + body + "\n)\n" + _FOOTER


if __name__ == "__main__":
    TABLE_FILE.write_text(table_source(), encoding="utf-8")
