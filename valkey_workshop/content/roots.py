"""Where modules come from: the course roots.

A course root is a folder whose sub-folders are modules (each with a ``module.toml``). The
engine searches, in this order:

1. the bundled course (``labs/`` in a checkout, ``valkey_workshop._labs`` in the wheel), or
   the folder ``$WORKSHOP_LABS_DIR`` names in its place (the older, all-or-nothing way);
2. each folder of ``$WORKSHOP_COURSE_PATH`` (separated by :data:`os.pathsep`);
3. each installed course package: an entry point in the group ``valkey_workshop.courses``
   whose object is a package (its folder is the root), a path, or a callable returning one.

A root that does not exist or an entry point that fails to load is a :class:`CourseRoot`
with a ``problem``: the other roots and their modules stay usable, and a command that needs a
module from nowhere says what went wrong where. Two modules with one id are an error naming
both places, raised only for that id.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

#: Folders of modules searched after the bundled course, separated by os.pathsep.
COURSE_PATH_ENV = "WORKSHOP_COURSE_PATH"
#: The older way: one folder that replaces the bundled course (kept working).
LABS_DIR_ENV = "WORKSHOP_LABS_DIR"
#: The entry-point group course packages register their folder of modules under.
ENTRY_POINT_GROUP = "valkey_workshop.courses"


@dataclass(frozen=True)
class CourseRoot:
    """A folder of modules and where the engine learnt of it.

    ``origin`` reads as a phrase ("bundled", "WORKSHOP_COURSE_PATH", "package
    course-ratelimit"); ``problem`` says why the root gives no modules, or is ``None``.
    """

    path: Path | None
    origin: str
    problem: str | None = None

    @property
    def where(self) -> str:
        """``/path/to/folder (WORKSHOP_COURSE_PATH)``: the root as shown in messages."""
        return f"{self.path} ({self.origin})" if self.path else self.origin

    @property
    def authored(self) -> bool:
        """True for a folder an author named (``WORKSHOP_COURSE_PATH``, ``WORKSHOP_LABS_DIR``):
        the only roots ``workshop new step`` writes to (never the bundled course or an
        installed package)."""
        return self.origin == COURSE_PATH_ENV or self.origin.startswith(LABS_DIR_ENV)


@dataclass(frozen=True)
class ModulePlace:
    """One module folder found on a course root."""

    id: str
    folder: Path
    root: CourseRoot

    @property
    def where(self) -> str:
        return f"{self.folder} ({self.root.origin})"


@dataclass(frozen=True)
class CourseSurvey:
    """Every course root and every module folder on them, in search order."""

    roots: tuple[CourseRoot, ...]
    places: tuple[ModulePlace, ...]

    def ids(self) -> tuple[str, ...]:
        """Module ids, each once, sorted."""
        return tuple(sorted({place.id for place in self.places}))

    def places_of(self, module_id: str) -> tuple[ModulePlace, ...]:
        return tuple(place for place in self.places if place.id == module_id)

    def problems(self) -> tuple[str, ...]:
        """One line per root that gives no modules, naming it."""
        return tuple(f"{root.where}: {root.problem}" for root in self.roots if root.problem)


def bundled_root() -> Path:
    """The course that ships with the engine."""
    from importlib import resources  # noqa: PLC0415 - kept off a Tab press's imports

    try:
        return Path(str(resources.files("valkey_workshop._labs")))
    except ModuleNotFoundError:
        # Running from a source checkout that is not installed: the labs sit beside the package.
        return Path(__file__).resolve().parents[2] / "labs"


def course_roots(environ: dict[str, str] | None = None) -> tuple[CourseRoot, ...]:
    """The course roots in search order (see the module docstring)."""
    env = os.environ if environ is None else environ
    roots: list[CourseRoot] = []
    override = env.get(LABS_DIR_ENV, "").strip()
    if override:
        roots.append(
            _folder_root(
                Path(override).expanduser(),
                f"{LABS_DIR_ENV}, in place of the bundled course; "
                f"{COURSE_PATH_ENV} adds folders beside it",
            )
        )
    else:
        roots.append(CourseRoot(bundled_root(), "bundled"))
    for entry in env.get(COURSE_PATH_ENV, "").split(os.pathsep):
        if entry.strip():
            roots.append(_folder_root(Path(entry.strip()).expanduser(), COURSE_PATH_ENV))
    roots.extend(_entry_point_roots())
    return tuple(roots)


def _folder_root(path: Path, origin: str) -> CourseRoot:
    resolved = path.resolve()
    if not resolved.exists():
        return CourseRoot(resolved, origin, "no such folder")
    if not resolved.is_dir():
        return CourseRoot(resolved, origin, "not a folder")
    if (resolved / "module.toml").is_file():
        # An easy mistake: the module's own folder instead of the folder holding modules.
        variable = LABS_DIR_ENV if origin.startswith(LABS_DIR_ENV) else COURSE_PATH_ENV
        put = (
            f"put its parent folder on {variable}"
            if origin.startswith(variable)
            else ("name its parent folder")
        )
        return CourseRoot(resolved, origin, f"this is a module folder; {put} ({resolved.parent})")
    return CourseRoot(resolved, origin)


def _entry_point_roots() -> list[CourseRoot]:
    from importlib import metadata  # noqa: PLC0415 - 30 ms: only a survey of courses pays it

    roots = []
    seen: set[tuple[str, str]] = set()
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        # One distribution seen twice on sys.path (an editable install and a copy) is one root.
        key = (entry.name, entry.value)
        if key in seen:
            continue
        seen.add(key)
        dist = getattr(entry, "dist", None)
        origin = f"package {dist.name}" if dist is not None else f"entry point {entry.name}"
        try:
            loaded = entry.load()
            folder = _folder_of(loaded)
        except Exception as error:  # noqa: BLE001 - any failure of a third-party package is a line
            where = f"entry point {entry.name} = {entry.value!r} ({ENTRY_POINT_GROUP})"
            roots.append(
                CourseRoot(None, origin, f"{where} fails to load: {type(error).__name__}: {error}")
            )
            continue
        roots.append(_folder_root(folder, origin))
    return roots


def _folder_of(loaded: object) -> Path:
    """The folder an entry point names: a package's folder, a path, or what a callable returns."""
    if isinstance(loaded, ModuleType):
        from importlib import resources  # noqa: PLC0415 - kept off a Tab press's imports

        return Path(str(resources.files(loaded)))
    if isinstance(loaded, str | os.PathLike):
        return Path(loaded)
    if callable(loaded):
        call: Callable[[], object] = loaded
        return _folder_of(call())
    raise TypeError(f"names a {type(loaded).__name__}, not a package, a path or a callable")


def survey(environ: dict[str, str] | None = None) -> CourseSurvey:
    """Every course root and the module folders on each."""
    roots = course_roots(environ)
    places: list[ModulePlace] = []
    for root in roots:
        if root.problem or root.path is None:
            continue
        try:
            children = sorted(root.path.iterdir())
        except OSError as error:
            index = roots.index(root)
            roots = (
                *roots[:index],
                CourseRoot(root.path, root.origin, f"cannot be read: {error.strerror}"),
                *roots[index + 1 :],
            )
            continue
        # One folder reached through two roots (a course package installed editable and
        # its folder on WORKSHOP_COURSE_PATH too) is one module, found first where it is first.
        seen = {place.folder.resolve() for place in places}
        places.extend(
            ModulePlace(child.name, child, root)
            for child in children
            if (child / "module.toml").is_file() and child.resolve() not in seen
        )
    return CourseSurvey(roots, tuple(places))
