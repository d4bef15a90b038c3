"""The parts every use case's result shares: messages with their level and stream, an exit
code, and the JSON envelope of every ``--json`` document (schema: docs/json-format.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

#: ``info`` is said as it is; ``warning`` and ``error`` lines start ``Warning:`` / ``Error:``.
Level = Literal["info", "warning", "error"]
#: Where a message goes: results on stdout, status and errors on stderr (``--json`` stays clean).
Stream = Literal["stdout", "stderr"]
#: Whether a message comes before the result's main output (its report) or after it.
Position = Literal["before", "after"]

#: The version of the JSON envelope; a change that removes or renames a key raises it.
JSON_FORMAT = 1

_PREFIX: dict[Level, str] = {"info": "", "warning": "Warning: ", "error": "Error: "}


@dataclass(frozen=True)
class Message:
    """One line a use case has to say."""

    text: str
    level: Level = "info"
    stream: Stream = "stderr"
    position: Position = "after"

    @property
    def line(self) -> str:
        """The text as shown: with ``Warning:`` or ``Error:`` in front when it is one."""
        return _PREFIX[self.level] + self.text


def warning(text: str, position: Position = "after") -> Message:
    return Message(text, "warning", "stderr", position)


def error(text: str) -> Message:
    return Message(text, "error", "stderr")


def notice(text: str, position: Position = "after") -> Message:
    """A status line on stderr that is neither a warning nor an error."""
    return Message(text, "info", "stderr", position)


def said(text: str) -> Message:
    """A plain line on stdout (part of the command's output)."""
    return Message(text, "info", "stdout")


class Outcome(Protocol):
    """What the CLI needs of every use case's result: what to say, and how to exit."""

    @property
    def messages(self) -> tuple[Message, ...]: ...

    @property
    def exit_code(self) -> int: ...


def tool_version() -> str:
    """The installed valkey-workshop's version (the package's own when not installed)."""
    import importlib.metadata  # noqa: PLC0415 - only a JSON document needs it

    try:
        return importlib.metadata.version("valkey-workshop")
    except importlib.metadata.PackageNotFoundError:
        from valkey_workshop import __version__  # noqa: PLC0415

        return __version__


def json_document(command: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` in the envelope every ``--json`` document shares: ``format`` (the envelope's
    version), ``version`` (the tool's) and ``command``, then the command's own keys."""
    clash = {"format", "version", "command"} & body.keys()
    if clash:
        raise ValueError(f"a JSON body may not use the envelope's keys: {sorted(clash)}")
    return {"format": JSON_FORMAT, "version": tool_version(), "command": command, **body}
