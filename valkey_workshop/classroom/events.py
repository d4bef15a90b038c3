"""What a class event may hold: one set of rules for the class server (which refuses anything
else before it reaches the stream) and for the board (which trusts nothing it reads either).

Every text loses its control and format characters (escape sequences, bidi overrides, newlines)
and is cut to a bounded length; every number is bounded; ``checks`` is a short flat JSON list
parsed only after its size and shape are checked, so no depth of brackets reaches the parser.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Collection, Mapping

#: The kinds of event a learner may send. ``join`` and ``clear`` are written by the class
#: server process and the trainer only.
LEARNER_KINDS = frozenset({"check", "skip", "help", "leave"})
SERVER_KINDS = frozenset({"join", "clear", "remove"})
MAX_NAME_CHARS = 40
MAX_CHECKS_CHARS = 1_536
MAX_CHECKS = 64
#: One event as a learner sends it, in bytes of JSON (non-ASCII escaped, so bytes bound the
#: stored UTF-8 too); larger ones are refused whole. A real one is under 800 bytes (module3's
#: largest step has 17 checks, 413 characters of ``checks``).
MAX_EVENT_BYTES = 2_048
#: One event as the relay stores it: the learner's fields plus the stamp (``v``, the learner
#: id, a name of at most 40 characters of at most 4 UTF-8 bytes, and the field names).
MAX_STORED_EVENT_BYTES = MAX_EVENT_BYTES + 256
#: A learner's attempts on one step, at most (a real one is in the tens).
MAX_ATTEMPTS = 10_000
_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_EVENT_ID = re.compile(r"[0-9a-f]{8,64}")
_LEARNER_ID = re.compile(r"[0-9a-f]{8,32}")
_SLUG = re.compile(r"[a-z0-9\-]{1,64}")
_BOUNDS = {"attempt": MAX_ATTEMPTS, "seconds": 30 * 86_400, "hints": 1_000}


def clean_text(text: object, limit: int) -> str:
    """``text`` with no control, format or line-breaking characters, whitespace collapsed,
    at most ``limit`` characters: safe to print on a terminal, in JSON and in a CSV cell."""
    if not isinstance(text, str):
        return ""
    if len(text) <= limit and text.isprintable() and "  " not in text and text == text.strip():
        return text  # the common case: nothing to remove (isprintable excludes C* and Z*)
    kept = (
        " " if unicodedata.category(char) in ("Zl", "Zp") or char in "\t\n\r\v\f" else char
        for char in text[: limit * 4]
        if char in "\t\n\r\v\f" or not unicodedata.category(char).startswith("C")
    )
    return " ".join("".join(kept).split())[:limit]


def learner_id_ok(value: str) -> bool:
    return _LEARNER_ID.fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def parse_checks(text: str) -> tuple[tuple[str, bool], ...] | None:
    """``[["check-id", 1], ...]`` as pairs, or None for anything else (too long, nested,
    ids that are not ids). The size is checked before the parser sees it."""
    if len(text) > MAX_CHECKS_CHARS or text.count("[") > MAX_CHECKS + 1:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list) or len(data) > MAX_CHECKS:
        return None
    pairs = []
    for item in data:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or _ID.fullmatch(item[0]) is None
            or item[1] not in (0, 1)
            or isinstance(item[1], bool)
        ):
            return None
        pairs.append((item[0], item[1] == 1))
    return tuple(pairs)


def _bounded_int(value: object, bound: int) -> int | None:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    number = int(value)
    return number if number <= bound else None


def clean_event(
    fields: Mapping[str, object],
    module_id: str,
    steps: Collection[int],
    kinds: Collection[str],
    check_ids: Mapping[int, Collection[str]] | None = None,
) -> dict[str, str] | None:
    """The event's fields as the board may use them, or None when any field is malformed.

    ``steps`` are the module's step numbers; ``kinds`` the kinds accepted from this source;
    ``check_ids`` each step's check ids (from the course content): a check event naming an id
    its step does not have is refused (a step whose checks are unknown takes any id).
    """
    kind = fields.get("kind")
    event_id = fields.get("id")
    if (
        not isinstance(kind, str)
        or kind not in kinds
        or not isinstance(event_id, str)
        or _EVENT_ID.fullmatch(event_id) is None
    ):
        return None
    clean: dict[str, str] = {"kind": kind, "id": event_id}
    if kind in ("check", "skip") and not _step_fields(fields, module_id, steps, clean):
        return None
    if kind == "check" and not _check_fields(fields, clean):
        return None
    if kind == "check" and check_ids:
        known = check_ids.get(int(clean["step"]))
        pairs = parse_checks(clean["checks"]) or ()
        if known and any(check not in known for check, _ in pairs):
            return None
    if kind in ("clear", "remove"):
        target = fields.get("target")
        if not isinstance(target, str) or not learner_id_ok(target):
            return None
        clean["target"] = target
    return clean


def _step_fields(
    fields: Mapping[str, object], module_id: str, steps: Collection[int], clean: dict[str, str]
) -> bool:
    if fields.get("module") != module_id:
        return False
    number = _bounded_int(fields.get("step"), 999)
    if number is None or number not in steps:
        return False
    clean.update(module=module_id, step=str(number))
    slug = fields.get("slug")
    if isinstance(slug, str) and _SLUG.fullmatch(slug):
        clean["slug"] = slug
    return True


def _check_fields(fields: Mapping[str, object], clean: dict[str, str]) -> bool:
    passed, checks = fields.get("passed"), fields.get("checks")
    if passed not in ("0", "1") or not isinstance(checks, str) or parse_checks(checks) is None:
        return False
    clean.update(passed=str(passed), checks=checks)
    for name, bound in _BOUNDS.items():
        value = _bounded_int(fields.get(name, "0"), bound)
        if value is None:
            return False
        clean[name] = str(value)
    clean["backend"] = clean_text(fields.get("backend", ""), 16)
    clean["server_version"] = clean_text(fields.get("server_version", ""), 32)
    return True
