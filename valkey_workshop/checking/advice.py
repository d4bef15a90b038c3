"""Name the real fault when learner code trips over valkey-py's spelling, not over the concept.

Part of the check-authoring API (with :mod:`valkey_workshop.checking.api`): a check that
catches a learner's exception asks :func:`explain` for one sentence to add to its message, so
``keep_ttl=True`` is reported as a spelling of ``keepttl=True`` and ``.decode()`` on a str as
the client's ``decode_responses=True``, never as a wrong idea about caching.
"""

from __future__ import annotations

import re
from typing import Any

from valkey_workshop.checking.api import CheckContext, CheckFailed

#: valkey-py's keyword for what learners often call it something else.
KEYWORD_SPELLINGS = {
    "keep_ttl": "keepttl=True (one word)",
    "keepTTL": "keepttl=True (lower case)",
    "KEEPTTL": "keepttl=True (lower case)",
    "ttl": "ex=seconds (or px=milliseconds)",
    "expire": "ex=seconds (or px=milliseconds)",
    "expiry": "ex=seconds (or px=milliseconds)",
    "expires": "ex=seconds (or px=milliseconds)",
    "timeout": "ex=seconds (or px=milliseconds)",
    "seconds": "ex=seconds",
    "exp": "ex=seconds (two letters)",
    "EX": "ex=seconds (lower case)",
    "PX": "px=milliseconds (lower case)",
    "NX": "nx=True (lower case)",
    "XX": "xx=True (lower case)",
    "if_not_exists": "nx=True",
    "only_if_exists": "xx=True",
}
_UNEXPECTED_KEYWORD = re.compile(r"got an unexpected keyword argument '([^']+)'")


def explain(error_text: str) -> str | None:
    """One sentence on a valkey-py spelling or str/bytes slip in ``error_text``, or None."""
    found = _UNEXPECTED_KEYWORD.search(error_text)
    if found and found.group(1) in KEYWORD_SPELLINGS:
        return (
            f"valkey-py has no keyword {found.group(1)!r}: it spells it "
            f"{KEYWORD_SPELLINGS[found.group(1)]}."
        )
    if "not an integer or out of range" in error_text and "setex(" in error_text.lower():
        return (
            "SETEX takes the seconds before the value: setex(key, seconds, value), unlike "
            "set(key, value, ex=seconds)."
        )
    if "'str' object has no attribute 'decode'" in error_text:
        return (
            "The client already decodes replies (decode_responses=True), so values arrive as "
            "str, not bytes: drop the .decode()."
        )
    if "a bytes-like object is required, not 'str'" in error_text:
        return (
            "The client decodes replies (decode_responses=True): values arrive as str, so "
            "compare and parse them as str, not bytes."
        )
    return None


class NotPlainDataError(TypeError):
    """A value that is not made of Python's built-in data types only."""


#: Exact types a learner function's data may be made of, each with how to copy a value of a
#: subclass into the base type without calling anything the subclass overrides.
_SCALARS: dict[type, Any] = {
    bool: bool.__bool__,
    int: int.__int__,
    float: float.__float__,
    str: str.__str__,
    bytes: bytes.__bytes__,
}


def plain_data(value: Any, depth: int = 0) -> Any:
    """``value`` rebuilt from exact built-in types (dict, list, tuple, str, bytes, int, float,
    bool, None), so a comparison a check makes runs the built-in ``__eq__``: an object whose
    ``__eq__`` always says True (or a ``dict`` subclass that lies) cannot pass it. A subclass
    of a built-in (``OrderedDict``, ``defaultdict``) becomes its base type.

    Raises:
        NotPlainDataError: ``value`` holds something else (a class of the learner's, a client),
            or is nested more than 100 deep.
    """
    if depth > 100:
        raise NotPlainDataError("nested more than 100 deep")
    if value is None:
        return None
    kind = type(value)
    for base, copy in _SCALARS.items():
        if kind is base:
            return value
        if isinstance(value, base) and base is not bool:
            return copy(value)
    if isinstance(value, dict):
        return {
            plain_data(key, depth + 1): plain_data(item, depth + 1)
            for key, item in dict.items(value)
        }
    if isinstance(value, list):
        return [plain_data(item, depth + 1) for item in list.__iter__(value)]
    if isinstance(value, tuple):
        return tuple(plain_data(item, depth + 1) for item in tuple.__iter__(value))
    raise NotPlainDataError(f"a {kind.__name__} object")


def call(ctx: CheckContext, name: str, *args: Any, **kwargs: Any) -> Any:
    """:meth:`CheckContext.call`, with :func:`explain`'s sentence added to a failure. What
    the learner's function returns comes back as :func:`plain_data`, so the check compares
    values, never an object's own idea of equality."""
    try:
        result = ctx.call(name, *args, **kwargs)
    except CheckFailed as failure:
        extra = explain(str(failure))
        if extra is None:
            raise
        ctx.fail(f"{failure} {extra}")
    try:
        return plain_data(result)
    except NotPlainDataError as error:
        ctx.fail(
            f"{name}() returned {error}, not plain data: return a dict, list, str, number, "
            "True/False or None (what json.loads gives back)."
        )
