"""The README's table of environment variables names every variable the code reads."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _read_variables() -> set[str]:
    """Names the package passes to ``os.environ.get``/``getenv``/``env.get``, directly or
    through a module constant (``IMAGE_ENV = "WORKSHOP_IMAGE"``), and ``envvar=`` options."""
    found: set[str] = set()
    for path in (ROOT / "valkey_workshop").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found |= _env_names(tree)
        constants = {
            target.id: node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else ""
                if name not in {"get", "getenv", "pop", "setdefault"}:
                    continue
                argument = node.args[0]
                value = (
                    argument.value
                    if isinstance(argument, ast.Constant)
                    else constants.get(argument.id)
                    if isinstance(argument, ast.Name)
                    else None
                )
                if isinstance(value, str) and value.isupper() and value.replace("_", "").isalnum():
                    found.add(value)
    return found


def _env_names(tree: ast.Module) -> set[str]:
    """Every ``WORKSHOP_*`` string in the module (constants, option help, messages)."""
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("WORKSHOP_")
        and node.value.replace("_", "").isalnum()
        and node.value.isupper()
    }


def test_every_environment_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1] for line in table.splitlines() if line.startswith("| `")}
    listed = {name.strip(" `") for row in rows for name in row.split(",")}
    read = _read_variables()
    assert {"WORKSHOP_WORKDIR", "VALKEY_URL", "DOCKER_HOST", "WORKSHOP_MEMORY_LIMIT"} <= read
    missing = sorted(read - listed - {"PATH"})
    assert not missing, f"README's table of environment variables lacks {missing}"
