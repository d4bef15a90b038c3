"""How the running command and the loaded modules are named in help texts and messages.

A course may ship its own console command that runs the engine (``ratelimit-lab``, say); the
help and every "run this next" line then name that command, and the example module is one
that is loaded, never a hard-coded id.
"""

from __future__ import annotations

from pathlib import Path

#: The name the console script was started as; set by the entry point. ``None`` (an import
#: in a test, ``python -m``) reads as "workshop".
_program: str | None = None
DEFAULT_PROGRAM = "workshop"


def set_program(argv0: str) -> None:
    """Record the command's name from ``sys.argv[0]`` (called by the console script)."""
    global _program  # noqa: PLW0603 - one name per process, set once at start
    name = Path(argv0).name
    _program = name if name and not name.endswith(".py") else None


def program() -> str:
    """The command to show in messages: ``workshop`` or a course's own wrapper command."""
    return _program or DEFAULT_PROGRAM


def example_module() -> str:
    """A module id to show in examples: the first module on the course roots, or ``MODULE``."""
    from valkey_workshop.content.roots import survey  # noqa: PLC0415 - only when help is built

    places = survey().places
    return places[0].id if places else "MODULE"
