"""Shell completion (``workshop --install-completion``): module ids, step slugs, and the values
of every option with a fixed set.

Completion runs on every Tab press, so it reads only the content folder's TOML, imports no
checking, server or rendering code (tests/unit/test_layers.py; benchmarks/tab_press.py times
it), and it never fails: a broken module simply completes nothing. The fixed sets are copies
of the names their owners define (a test keeps each the same as its owner's).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from valkey_workshop.content.loader import available_modules, find_module, load_module
from valkey_workshop.content.roots import survey
from valkey_workshop.errors import WorkshopError

#: ``server.resolve.BACKENDS``.
BACKENDS = ("auto", "docker", "embedded", "local", "url")
#: The backends ``workshop class serve`` accepts (``auto`` would pick for a laptop, not a room).
CLASS_BACKENDS = ("embedded", "local", "docker", "url")
#: ``server.docker.NETWORKS``.
NETWORKS = ("bridge", "host")
#: ``commands.pack.PLATFORMS`` (their names) and ``commands.pack.DEFAULT_PYTHONS``.
PLATFORM_NAMES = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-x86_64")
PYTHONS = ("3.11", "3.12", "3.13", "3.14")


def choices_metavar(choices: tuple[str, ...]) -> str:
    """How ``--help`` shows an option's fixed set: ``[bridge|host]``."""
    return "[" + "|".join(choices) + "]"


def complete_choice(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """A completion of the values in ``choices`` that start with what was typed."""

    def complete(incomplete: str) -> list[str]:
        return [choice for choice in choices if choice.startswith(incomplete)]

    return complete


def complete_module(incomplete: str) -> list[str]:
    """Module ids starting with what was typed."""
    try:
        names = available_modules()
    except WorkshopError:
        return []
    return [name for name in names if name.startswith(incomplete)]


def complete_step(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Step slugs (and two-digit numbers) of the module on the command line; of every module
    when Click has not parsed it yet (completing an option's value, it often has not)."""
    module_id = ctx.params.get("module")
    try:
        course = survey()  # once: each survey asks the installed packages for courses
        names = [str(module_id)] if module_id else list(course.ids())
    except WorkshopError:
        return []
    choices: dict[str, str] = {}
    for name in names:
        try:
            folder = find_module(name, course).folder
            module = load_module(name, root=folder.parent, compile_checks=False)
        except WorkshopError:
            continue
        for step in module.steps:
            for value in (step.slug, f"{step.number:02d}"):
                if value.startswith(incomplete):
                    choices.setdefault(value, step.title)
    return list(choices.items())
