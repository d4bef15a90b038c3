"""How the running command and the loaded modules are named in help texts and messages.

A course may ship its own console command that runs the engine (``ratelimit-lab``, say); the
help and every "run this next" line then name that command, and the example module is one
that is loaded, never a hard-coded id.
"""

from __future__ import annotations

from collections.abc import Callable
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
    """A module id to show in examples: the first module of the running command's own course
    (the distribution whose console script :func:`program` is, through its
    ``valkey_workshop.courses`` entry point), else the first module on the course roots, else
    ``MODULE``."""
    from valkey_workshop.content.roots import survey  # noqa: PLC0415 - only when help is built

    places = survey().places
    origins = _own_course_origins()
    own = [place for place in places if place.root.origin in origins]
    chosen = own or list(places)
    return chosen[0].id if chosen else "MODULE"


def _own_course_origins() -> set[str]:
    """The course-root origins (``package NAME``) of the distribution that provides the
    console script :func:`program`, when it registers a course; else none."""
    from importlib import metadata  # noqa: PLC0415 - only when help is built

    from valkey_workshop.content.roots import ENTRY_POINT_GROUP  # noqa: PLC0415 - as above

    origins = set()
    for script in metadata.entry_points(group="console_scripts", name=program()):
        dist = getattr(script, "dist", None)
        if dist is not None and any(e.group == ENTRY_POINT_GROUP for e in dist.entry_points):
            origins.add(f"package {dist.name}")
    return origins


#: Marks in help texts, filled in when the command line is built (not at import, when the
#: running command may not be known yet): the command's name and an example module.
PROGRAM_MARK = "{{program}}"
MODULE_MARK = "{{module}}"


def fill(text: str, module: Callable[[], str] = example_module) -> str:
    """``text`` with :data:`PROGRAM_MARK` and :data:`MODULE_MARK` filled in (``module``
    gives the example module, asked only when the text has its mark)."""
    if MODULE_MARK in text:
        text = text.replace(MODULE_MARK, module())
    return text.replace(PROGRAM_MARK, program())
