"""What a step (or one of its proofs) needs from the server, and whether this server has it.

Content declares requirements as command names, optionally with one option of the command:
``"DELIFEQ"`` (Valkey 9.0+), ``"SET IFEQ"`` (Valkey 8.1+). The server answers for itself
through ``COMMAND DOCS`` (the arguments it documents), so a managed service or a fork is judged
by what it accepts, not by its version number. A proof whose requirements are unmet is "not
applicable" on that server: a finding with a reason, never a failure or a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

#: A requirement that is not a command: the session's server asks for a password.
PASSWORD = "PASSWORD"  # noqa: S105 - the requirement's name, not a password


class CommandReader(Protocol):
    def execute_command(self, *args: Any, **options: Any) -> Any: ...

    def info(self, section: str) -> Mapping[str, Any]: ...


def server_label(client: CommandReader) -> str:
    """``Valkey 9.1.2`` or ``Redis 7.0.15``: the product and version the server reports."""
    info = client.info("server")
    if "valkey_version" in info or info.get("server_name") == "valkey":
        return f"Valkey {info.get('valkey_version', info.get('redis_version', '?'))}"
    return f"Redis {info.get('redis_version', '?')}"


def unmet(client: CommandReader, requires: Iterable[str]) -> tuple[str, ...]:
    """The requirements in ``requires`` this server does not meet, in the order given."""
    missing = []
    for requirement in requires:
        if requirement == PASSWORD:
            # Not a command: the server is reached with a password (every server the
            # workshop starts is); a proof about a client that leaves it out needs one.
            pool = getattr(client, "connection_pool", None)
            if not getattr(pool, "connection_kwargs", {}).get("password"):
                missing.append(requirement)
            continue
        command, _, option = requirement.partition(" ")
        tokens = _documented_tokens(client, command)
        if tokens is None or (option and option.upper() not in tokens):
            missing.append(requirement)
    return tuple(missing)


def not_applicable_reason(label: str, missing: Sequence[str]) -> str:
    """``needs DELIFEQ, which Valkey 8.1.8 does not have``."""
    what = " and ".join(missing)
    return f"needs {what}, which {label} does not have"


def _documented_tokens(client: CommandReader, command: str) -> set[str] | None:
    """The option tokens ``COMMAND DOCS`` lists for ``command``; None when it is unknown."""
    try:
        reply = client.execute_command("COMMAND DOCS", command)
    except Exception:  # noqa: BLE001 - COMMAND DOCS is missing or denied: ask COMMAND INFO
        reply = None
    docs = _as_mapping(reply)
    if docs:
        doc = _as_mapping(next(iter(docs.values())))
        tokens: set[str] = set()
        _collect_tokens(doc.get("arguments"), tokens)
        return tokens
    try:
        info = client.execute_command("COMMAND INFO", command)
    except Exception:  # noqa: BLE001 - cannot ask at all: treat the command as absent
        return None
    known = bool(info) and any(entry for entry in info)
    # Without COMMAND DOCS the options cannot be listed; the command itself is there.
    return set() if known else None


def _as_mapping(value: Any) -> dict[str, Any]:
    """RESP3 gives maps, RESP2 flat ``[key, value, ...]`` lists; both become a dict."""
    if isinstance(value, Mapping):
        return {_text(k): v for k, v in value.items()}
    if isinstance(value, list) and len(value) % 2 == 0:
        return {_text(k): v for k, v in zip(value[::2], value[1::2], strict=True)}
    return {}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _collect_tokens(arguments: Any, tokens: set[str]) -> None:
    for argument in arguments or ():
        fields = _as_mapping(argument)
        token = fields.get("token")
        if token is not None:
            tokens.add(_text(token).upper())
        _collect_tokens(fields.get("arguments"), tokens)


def server_lacks(url: str) -> Callable[[tuple[str, ...]], str | None]:
    """A function telling why requirements are unmet on the server at ``url`` ("needs
    DELIFEQ, which Redis 7.0.15 does not have"), or None when they are met (one probe per
    requirement set)."""
    import valkey  # noqa: PLC0415 - content stays importable without a client library

    answers: dict[tuple[str, ...], str | None] = {}

    def lacks(requires: tuple[str, ...]) -> str | None:
        if not requires:
            return None
        if requires not in answers:
            client = valkey.Valkey.from_url(url, decode_responses=True)
            try:
                missing = unmet(client, requires)
                label = server_label(client) if missing else ""
            finally:
                client.close()
            answers[requires] = not_applicable_reason(label, missing) if missing else None
        return answers[requires]

    return lacks
