"""``workshop cli``: Valkey commands typed (or piped) against the lab server, one reply each,
with its latency.

The server is chosen as ``check`` chooses it. On a server the workshop did not start (``--url``)
the guard of ``check`` applies to typed commands too: a command that writes a key that is not
the workshop's (see :func:`valkey_workshop.server.guard.is_workshop_key`), or that changes the
server itself (the ``admin`` flag or the ``@dangerous`` category in ``COMMAND INFO``: CONFIG
SET, FLUSHALL, SHUTDOWN, ACL SETUSER) is refused with the reason, unless ``--allow-writes``
was given, and then it runs with a line that says what it touches. The server's password is
never shown: the address is shown redacted and any reply holding the password has it masked.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable, Iterator
from typing import Any

import valkey

from valkey_workshop.results.prompt import Reply
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.guard import is_workshop_key

#: Commands that turn the connection into a stream of pushes: not a prompt's business.
_STREAMING = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "SYNC", "PSYNC"}
_MASK = "***"
#: Flagged admin or @dangerous, yet they only read (a server's settings, clients, logs).
_READS = {
    "config|get", "acl|list", "acl|getuser", "acl|whoami", "acl|cat", "acl|log", "acl|users",
    "slowlog|get", "slowlog|len", "client|list", "client|info", "client|getname", "info",
    "latency|latest", "latency|history", "latency|doctor", "memory|stats", "memory|doctor",
    "object|encoding", "object|freq", "object|idletime", "object|refcount", "command|info",
    "command|count", "command|docs", "command|getkeys", "lastsave", "role", "time", "dbsize",
}  # fmt: skip


class Prompt:
    """A connection to ``server`` that runs one typed line at a time (raw replies, no client
    library callbacks, as valkey-cli shows them)."""

    def __init__(self, server: ServerInfo, allow_writes: bool = False) -> None:
        self._server = server
        self._allow_writes = allow_writes
        self._client = valkey.Valkey.from_url(server.url, socket_timeout=30)
        self._connection: Any = self._client.connection_pool.get_connection("PING")
        password = valkey.connection.parse_url(server.url).get("password")
        self._password: str | None = password or None
        #: The server stopped answering (SHUTDOWN, a crash): no line after it is sent.
        self.ended = False

    def close(self) -> None:
        self._client.connection_pool.release(self._connection)
        self._client.close()

    def run(self, line: str) -> Reply | None:
        """The reply to one line; None for a blank line or a comment (``#``). A lost
        connection (SHUTDOWN, no reply within 30 s) is an error reply; when the server no
        longer answers at all, :attr:`ended` says so."""
        try:
            return self._run(line)
        except (valkey.ConnectionError, valkey.TimeoutError, OSError) as error:
            self._connection.disconnect()  # a reply may still be on its way: start afresh
            self.ended = not self._answers()
            why = "the server is gone" if self.ended else "the connection was reset"
            return Reply(line.strip(), (f"(error) {_reason(error)}; {why}",), None, True)

    def _answers(self) -> bool:
        try:
            self._connection.send_command("PING")
            self._connection.read_response()
        except (valkey.ValkeyError, OSError):
            self._connection.disconnect()
            return False
        return True

    def _run(self, line: str) -> Reply | None:
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        try:
            args = shlex.split(text)
        except ValueError as error:
            return Reply(text, (f"(error) cannot read the line: {error}",), None, error=True)
        name = args[0].upper()
        if name in _STREAMING:
            return Reply(
                text, (f"(error) {name} streams replies; use valkey-cli for it",), None, True
            )
        note = None
        if not self._server.private:
            concern = self._concern(args)
            if concern is not None and not self._allow_writes:
                message = f"(refused) {concern}: this server is not the workshop's"
                return Reply(text, (message,), None, error=True, note="rerun with --allow-writes")
            note = concern
        started = time.perf_counter()
        try:
            self._connection.send_command(*args)
            raw = self._connection.read_response()
        except valkey.ResponseError as error:
            latency = (time.perf_counter() - started) * 1e6
            return Reply(text, (self._masked(f"(error) {error}"),), latency, True, note)
        latency = (time.perf_counter() - started) * 1e6
        return Reply(
            text, tuple(self._masked(part) for part in format_reply(raw)), latency, False, note
        )

    def run_all(self, lines: Iterable[str]) -> Iterator[Reply]:
        """One reply per line that holds a command (for a pipe)."""
        for line in lines:
            reply = self.run(line)
            if reply is not None:
                yield reply
            if self.ended:
                return

    def _concern(self, args: list[str]) -> str | None:
        """What ``args`` would do to a server that is not the workshop's, or None."""
        info = self._command_info(args)
        if info is None:
            return None  # unknown: the server answers with its own error
        name, flags, categories = info
        reads = "readonly" in flags or name in _READS
        if not reads and ("admin" in flags or "@dangerous" in categories):
            return f"{' '.join(args[:2]).upper()} changes the server (not one key)"
        if "write" not in flags:
            return None
        try:
            self._connection.send_command("COMMAND", "GETKEYS", *args)
            keys = [_text(key) for key in self._connection.read_response()]
        except valkey.ResponseError:
            keys = []
        foreign = [key for key in keys if not is_workshop_key(key)]
        if foreign:
            return f"{args[0].upper()} writes {', '.join(foreign[:3])}, not a workshop key"
        return None

    def _command_info(self, args: list[str]) -> tuple[str, set[str], set[str]] | None:
        """The command's full name (``config|set``), flags and ACL categories."""
        self._connection.send_command("COMMAND", "INFO", args[0])
        (entry,) = self._connection.read_response()
        if entry is None:
            return None
        flags = {_text(flag) for flag in entry[2]}
        categories = {_text(category) for category in entry[6]} if len(entry) > 6 else set()
        name = args[0].lower()
        if len(args) > 1 and len(entry) > 9:
            wanted = f"{name}|{args[1]}".lower()
            for sub in entry[9]:
                if _text(sub[0]).lower() == wanted:
                    name = wanted
                    flags = {_text(flag) for flag in sub[2]}
                    categories = {_text(category) for category in sub[6]}
        return name, flags, categories

    def _masked(self, text: str) -> str:
        return text.replace(self._password, _MASK) if self._password else text


def _reason(error: BaseException) -> str:
    return str(error).rstrip(".") or type(error).__name__


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def format_reply(reply: object, indent: str = "") -> list[str]:  # noqa: PLR0911 - one return per RESP type
    """A raw reply as valkey-cli shows it: ``"text"``, ``(integer) 1``, ``(nil)``, numbered
    items for an array."""
    if reply is None:
        return ["(nil)"]
    if isinstance(reply, Exception):  # an error inside an array (EXEC's replies)
        return [f"(error) {reply}"]
    if isinstance(reply, bool):
        return [f"(integer) {int(reply)}"]
    if isinstance(reply, int):
        return [f"(integer) {reply}"]
    if isinstance(reply, float):
        return [f"(double) {reply}"]
    if isinstance(reply, bytes):
        text = reply.decode("utf-8", "backslashreplace")
        return ["OK" if text == "OK" else _quoted(text)]
    if isinstance(reply, str):
        return [reply]
    if isinstance(reply, dict):
        reply = [item for pair in reply.items() for item in pair]
    if isinstance(reply, list | tuple | set):
        items = list(reply)
        if not items:
            return ["(empty array)"]
        width = len(str(len(items)))
        lines: list[str] = []
        for number, item in enumerate(items, 1):
            label = f"{number:>{width}}) "
            inner = format_reply(item, indent + " " * len(label))
            lines.append(label + inner[0] if not lines else indent + label + inner[0])
            lines.extend(inner[1:])
        return lines
    return [repr(reply)]


def _quoted(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'
