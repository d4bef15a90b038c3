"""The workshop's own keys: every key name the checks and demos write is one the server guard
counts as the workshop's, so a step never refuses a server because of our own leftovers, and
a user's keys are never mistaken for ours."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from valkey_workshop.content import Module
from valkey_workshop.server.guard import is_workshop_key

#: A string that looks like a key name: ``word:more``.
KEY_LIKE = re.compile(r"^[a-z_][a-z0-9_-]*:\S")
#: Pub/sub channels the server names itself are not keys.
NOT_KEYS = ("__redis__:",)


def key_literals(path: Path) -> list[tuple[int, str]]:
    """Key-like string literals in ``path`` (an f-string counts by its literal start)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inner:
            text = node.value
        elif (
            isinstance(node, ast.JoinedStr)
            and node.values
            and isinstance(node.values[0], ast.Constant)
        ):
            text = str(node.values[0].value)
        else:
            continue
        if KEY_LIKE.match(text) and not text.startswith(NOT_KEYS):
            found.append((node.lineno, text))
    return found


def test_checks_and_demos_write_only_workshop_keys(module3: Module) -> None:
    strays = []
    for step in module3.steps:
        learner_side = {step.starter, step.solution}
        for path in sorted(step.folder.glob("*.py")):
            if path in learner_side:
                continue
            for line, text in key_literals(path):
                ours = is_workshop_key(text, module3.owned_keys)
                # An f-string's literal start, e.g. "product:BULK" of "product:BULK{i}:details".
                partial = text.startswith("product:") and text.count(":") == 1
                if not (ours or partial):
                    strays.append(f"{path.relative_to(step.folder.parent)}:{line}: {text!r}")
    assert strays == [], "keys outside workshop:* / the exercise's product keys"


def test_the_scan_finds_literals() -> None:
    demo = Path(__file__).parents[2] / "labs" / "module3" / "04_eviction" / "demo.py"
    assert any(text.startswith("workshop:demo:evict:") for _, text in key_literals(demo))
