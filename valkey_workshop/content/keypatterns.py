"""Key patterns a module declares as its own (``owned_keys`` in ``module.toml``).

The patterns use Valkey's glob syntax, the one ``SCAN MATCH`` and ``KEYS`` read: ``*`` any run
of characters, ``?`` one character, ``[abc]`` / ``[a-z]`` / ``[^a]`` a class, ``\\`` makes the
next character literal. The server guard matches keys against them in Python
(:func:`matcher`) and asks the server with ``SCAN MATCH`` the same pattern, so both agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

#: The prefix every key the engine's own checks and demos write starts with.
ENGINE_PREFIX = "workshop:"


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a module's key pattern, or None when it can.

    A pattern must be a valid glob, hold no blanks or control characters, and start with a
    literal part (``app:*``): a pattern starting with a wildcard would claim keys of any name,
    an application's included.
    """
    if not pattern:
        return "it is empty"
    if any(char.isspace() or not char.isprintable() for char in pattern):
        return "it holds a blank or a control character"
    if pattern[0] in "*?[":
        return "it starts with a wildcard, so it would claim keys of any name"
    try:
        _regex(pattern)
    except ValueError as error:
        return str(error)
    return None


def _regex(pattern: str) -> str:
    """The regular expression of a Valkey glob (raises ValueError for a malformed one)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 == len(pattern):
                raise ValueError("it ends with a lone '\\'")
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.find(
                "]", index + 2 if pattern[index + 1 : index + 2] == "^" else index + 1
            )
            if end < 0:
                raise ValueError("a '[' is never closed")
            body = pattern[index + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            if not body:
                raise ValueError("it holds an empty class '[]'")
            out.append(("[^" if negate else "[") + _class_body(body) + "]")
            index = end + 1
            continue
        elif char == "]":
            raise ValueError("a ']' has no '['")
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _class_body(body: str) -> str:
    parts = []
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            low, high = sorted((body[index], body[index + 2]))
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            index += 3
        else:
            parts.append(re.escape(body[index]))
            index += 1
    return "".join(parts)


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_regex(pattern)})" for pattern in patterns), re.DOTALL)


def matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a key matches any of ``patterns`` (valid ones: see :func:`pattern_problem`)."""
    compiled = _compiled(tuple(patterns))
    if compiled is None:
        return lambda _key: False
    return lambda key: compiled.fullmatch(key) is not None


def sample_key(pattern: str, token: str) -> str | None:
    """A key that ``pattern`` matches, with ``token`` for its wildcards (a probe writes it);
    None for a pattern with a class (no simple sample)."""
    if "[" in pattern:
        return None
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index + 1])
            index += 2
            continue
        out.append(token if char == "*" else "x" if char == "?" else char)
        index += 1
    return "".join(out)
