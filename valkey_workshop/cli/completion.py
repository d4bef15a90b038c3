"""Shell completion of module ids and step slugs (``workshop --install-completion``).

Completion runs on every Tab press, so it reads only the content folder's TOML, and it never
fails: a broken module simply completes nothing.
"""

from __future__ import annotations

import typer

from valkey_workshop.content.loader import available_modules, load_module
from valkey_workshop.errors import WorkshopError


def complete_module(incomplete: str) -> list[str]:
    """Module ids starting with what was typed."""
    return [name for name in available_modules() if name.startswith(incomplete)]


def complete_step(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Step slugs (and two-digit numbers) of the module on the command line; of every module
    when Click has not parsed it yet (completing an option's value, it often has not)."""
    module_id = ctx.params.get("module")
    names = [str(module_id)] if module_id else list(available_modules())
    choices: dict[str, str] = {}
    for name in names:
        try:
            module = load_module(name)
        except WorkshopError:
            continue
        for step in module.steps:
            for value in (step.slug, f"{step.number:02d}"):
                if value.startswith(incomplete):
                    choices.setdefault(value, step.title)
    return list(choices.items())
