"""Reads and validates lab content.

Unknown keys, missing keys, wrong types and missing files are all errors that name the file:
a typo in content must never become a silent default. Adding a module means adding a folder;
the engine does not change.

``module.toml``::

    format_version = 1            # the lab format version this module is written for
    title = "High-Performance Caching"
    summary = "One paragraph for the banner and `workshop list`."
    owned_keys = ["cart:*:items"]        # optional: key patterns (Valkey globs) the module's
                                  # checks and demos write beside workshop:*; the server
                                  # guard treats them as the workshop's (see README)

    [[sections]]                  # the timing plan, in teaching order
    id = "fundamentals"
    title = "Valkey as a cache: fundamentals"
    minutes = 8
    self_paced = false            # optional: true for a section outside the timed plan
                                  # (not counted in the plan's minutes, never "over")

    [[steps]]                     # in order; numbers run 1, 2, 3, ...
    number = 1
    slug = "bottleneck"           # lowercase letters, digits and '-'
    section = "fundamentals"      # one of the section ids

``NN_slug/step.toml``::

    title = "Find the bottleneck"
    time_limit_seconds = 30       # optional: how long the step's checks may run
    hints = ["first hint", "second hint"]   # revealed one at a time

    requires = ["DELIFEQ"]        # optional: commands the server must know ("SET IFEQ": a
                                  # command and one of its options); on a server without
                                  # them, verify reports the step "not applicable"

    [[wrong_answers]]             # optional: known-wrong files the checks must reject
    file = "wrong/no_ttl.py"
    about = "caches without a TTL"
    fails = "cached-with-ttl"     # the check that must fail
    says = "no TTL"               # text its message must contain
    requires = ["SET IFEQ"]       # optional, as for the step: this proof alone is skipped

    [[accepted_answers]]          # optional: correct files in other styles the checks must pass
    file = "accepted/setex.py"
    about = "SETEX instead of SET ... EX"

    changes_server = false        # optional: the checks change server-wide state (CONFIG SET,
                                  # memory limits, FLUSH*); such a step runs only on a server
                                  # holding nothing but the workshop's keys

    [[equivalent_mutants]]        # optional: mutants of solution.py that are still right answers
    id = "unlink-to-delete:remove_session:3f2a1c"  # its id in `workshop verify --mutants`
    why = "DEL of a small key is as good as UNLINK here"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from valkey_workshop.content.keypatterns import pattern_problem
from valkey_workshop.content.models import (
    FORMAT_VERSION,
    AcceptedAnswer,
    EquivalentMutant,
    Module,
    Section,
    Step,
    WrongAnswer,
)
from valkey_workshop.content.roots import (
    COURSE_PATH_ENV,
    LABS_DIR_ENV,
    CourseSurvey,
    ModulePlace,
    bundled_root,
    course_roots,
    survey,
)
from valkey_workshop.errors import ContentError, UsageError

__all__ = [
    "COURSE_PATH_ENV",
    "LABS_DIR_ENV",
    "ModuleEntry",
    "available_modules",
    "find_module",
    "labs_root",
    "load_module",
    "module_entries",
]
DEFAULT_TIME_LIMIT_SECONDS = 30.0
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
T = TypeVar("T")
_STEP_FILES = ("lesson.md", "demo.py", "starter.py", "solution.py", "checks.py")


def labs_root() -> Path:
    """The first course root: ``$WORKSHOP_LABS_DIR`` or the course bundled with the engine."""
    first = course_roots()[0]
    return first.path if first.path is not None else bundled_root()


def available_modules(root: Path | None = None) -> tuple[str, ...]:
    """Ids of the modules on every course root (or under ``root`` alone), sorted."""
    if root is None:
        return survey().ids()
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if (p / "module.toml").is_file()))


def find_module(module_id: str, course: CourseSurvey | None = None) -> ModulePlace:
    """Where module ``module_id`` lives on the course roots.

    Raises:
        UsageError: no root holds it (the message lists the modules there are, and any root
            that gave none, with why).
        ContentError: two roots hold a module of that id (the message names both folders).
    """
    found = course or survey()
    places = found.places_of(module_id)
    if len(places) > 1:
        where = " and ".join(place.where for place in places)
        raise ContentError(
            f"Module {module_id!r} is in {len(places)} places: {where}. Rename one folder "
            "or remove one course root."
        )
    if not places:
        known = ", ".join(found.ids()) or "none"
        problems = "".join(f" ({problem})" for problem in found.problems())
        raise UsageError(f"Unknown module {module_id!r}. Modules: {known}.{problems}")
    return places[0]


def load_module(module_id: str, root: Path | None = None, *, compile_checks: bool = True) -> Module:
    """Load and validate one module, found on the course roots (or under ``root`` alone).

    ``compile_checks=False`` skips compiling each step's ``checks.py`` (a Tab press lists the
    steps and their titles only; ``check`` and ``verify`` still name a broken file).

    A broken step (a missing file, a bad ``step.toml``) does not stop the module: it loads as
    a :class:`Step` whose ``problem`` names the file and what is wrong.

    Raises:
        UsageError: there is no such module (the message lists the ones there are).
        ContentError: the module's ``module.toml`` does not match the lab format, or two
            course roots hold a module of this id.
    """
    if root is not None:
        folder = root / module_id
        if not (folder / "module.toml").is_file():
            known = ", ".join(available_modules(root)) or "none"
            raise UsageError(f"Unknown module {module_id!r}. Modules: {known}.")
    else:
        folder = find_module(module_id).folder
    return _load_folder(module_id, folder, compile_checks=compile_checks)


@dataclass(frozen=True)
class ModuleEntry:
    """A module found on the course roots: loaded, or the one line saying why it is not."""

    place: ModulePlace
    module: Module | None
    problem: str | None


def module_entries(course: CourseSurvey | None = None) -> tuple[ModuleEntry, ...]:
    """Every module on the course roots, each loaded or with its problem (``workshop list``)."""
    found = course or survey()
    entries = []
    for place in found.places:
        try:
            find_module(place.id, found)
            entries.append(ModuleEntry(place, _load_folder(place.id, place.folder), None))
        except (ContentError, UsageError) as error:
            entries.append(ModuleEntry(place, None, str(error)))
    return tuple(entries)


def _load_folder(module_id: str, folder: Path, *, compile_checks: bool = True) -> Module:
    manifest = folder / "module.toml"
    data = _read_toml(manifest)
    fields = _Fields(data, manifest)
    version = fields.required("format_version", int)
    if version > FORMAT_VERSION:
        raise ContentError(
            f"{manifest}: format_version {version} is newer than this engine reads "
            f"(format_version {FORMAT_VERSION}): upgrade valkey-workshop "
            "(pip install --upgrade valkey-workshop)."
        )
    if version < 1:
        raise ContentError(
            f"{manifest}: format_version {version} does not exist; the first is 1 "
            f"(this engine reads up to {FORMAT_VERSION}): write format_version = {FORMAT_VERSION}."
        )
    title = fields.required("title", str)
    summary = fields.required("summary", str)
    raw_sections = fields.required("sections", list)
    raw_steps = fields.required("steps", list)
    owned_keys = _owned_keys(fields.optional("owned_keys", list, []), manifest)
    fields.no_unknown()

    sections = tuple(_section(entry, manifest, i) for i, entry in enumerate(raw_sections, 1))
    section_ids = {section.id for section in sections}
    if len(section_ids) != len(sections):
        raise ContentError(f"{manifest}: two sections share an id.")
    steps = tuple(
        _step(entry, manifest, i, module_id, folder, section_ids, compile_checks=compile_checks)
        for i, entry in enumerate(raw_steps, 1)
    )
    if not steps:
        raise ContentError(f"{manifest}: a module needs at least one step.")
    if len({step.slug for step in steps}) != len(steps):
        raise ContentError(f"{manifest}: two steps share a slug.")
    steps = tuple(replace(step, owned_keys=owned_keys) for step in steps)
    return Module(
        id=module_id,
        title=title,
        summary=summary,
        format_version=version,
        sections=sections,
        steps=steps,
        root=folder,
        owned_keys=owned_keys,
    )


def _owned_keys(raw: list[Any], manifest: Path) -> tuple[str, ...]:
    """``owned_keys``: valid key patterns (see ``content.keypatterns``), each one line on error."""
    patterns = []
    for index, pattern in enumerate(raw, 1):
        if not isinstance(pattern, str):
            raise ContentError(f"{manifest}: owned_keys[{index}] must be a text, not {pattern!r}.")
        problem = pattern_problem(pattern)
        if problem is not None:
            raise ContentError(
                f"{manifest}: owned_keys[{index}] {pattern!r} is not a usable key pattern: "
                f"{problem}."
            )
        patterns.append(pattern)
    return tuple(patterns)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path}: not valid TOML: {error}") from error
    except OSError as error:
        raise ContentError(f"{path}: cannot be read: {error.strerror}") from error


class _Fields:
    """Takes typed fields out of a TOML table and complains about what is left over."""

    def __init__(self, table: Any, path: Path, where: str = "") -> None:
        if not isinstance(table, Mapping):
            raise ContentError(f"{path}: {where or 'the file'} must be a table.")
        self._table = dict(table)
        self._path = path
        self._where = f" {where}" if where else ""

    def required(self, key: str, kind: type[T]) -> T:
        if key not in self._table:
            raise ContentError(f"{self._path}:{self._where} missing key {key!r}.")
        return self._check(key, self._table.pop(key), kind)

    def optional(self, key: str, kind: type[T], default: T) -> T:
        if key not in self._table:
            return default
        return self._check(key, self._table.pop(key), kind)

    def _check(self, key: str, value: object, kind: type[T]) -> T:
        # bool is an int in Python; a lab author writing `minutes = true` has made a mistake.
        wrong_bool = isinstance(value, bool) and kind is not bool
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if wrong_bool or not isinstance(value, kind):
            raise ContentError(
                f"{self._path}:{self._where} {key!r} must be {_article(kind.__name__)} "
                f"{kind.__name__}, "
                f"not {type(value).__name__}."
            )
        return value

    def no_unknown(self) -> None:
        if self._table:
            unknown = ", ".join(sorted(self._table))
            raise ContentError(f"{self._path}:{self._where} unknown key(s): {unknown}.")


def _section(entry: Any, manifest: Path, index: int) -> Section:
    fields = _Fields(entry, manifest, f"sections[{index}]")
    section = Section(
        id=fields.required("id", str),
        title=fields.required("title", str),
        minutes=fields.required("minutes", int),
        self_paced=fields.optional("self_paced", bool, False),
    )
    fields.no_unknown()
    if section.minutes <= 0:
        raise ContentError(f"{manifest}: sections[{index}] minutes must be positive.")
    return section


def _step(
    entry: Any,
    manifest: Path,
    index: int,
    module_id: str,
    module_folder: Path,
    section_ids: set[str],
    *,
    compile_checks: bool = True,
) -> Step:
    fields = _Fields(entry, manifest, f"steps[{index}]")
    number = fields.required("number", int)
    slug = fields.required("slug", str)
    section = fields.required("section", str)
    fields.no_unknown()
    if number != index:
        raise ContentError(f"{manifest}: steps[{index}] has number {number}; expected {index}.")
    if not _SLUG.match(slug):
        raise ContentError(
            f"{manifest}: steps[{index}] slug {slug!r} must look like 'cache-aside'."
        )
    if section not in section_ids:
        raise ContentError(f"{manifest}: steps[{index}] names unknown section {section!r}.")

    folder = module_folder / f"{number:02d}_{slug.replace('-', '_')}"
    try:
        return _step_folder(module_id, number, slug, section, folder, compile_checks)
    except ContentError as error:
        # One half-written step is one failed row: list, start and verify go on with the rest.
        return Step(
            module_id=module_id,
            number=number,
            slug=slug,
            title=f"(broken) {error}",
            section=section,
            folder=folder,
            hints=(),
            time_limit_seconds=DEFAULT_TIME_LIMIT_SECONDS,
            wrong_answers=(),
            problem=str(error),
        )


def _checks_compile(checks: Path) -> None:
    """Raise a ContentError naming the line when ``checks.py`` is not valid Python (cheap:
    compiled, not run)."""
    try:
        compile(checks.read_bytes(), str(checks), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise ContentError(f"{checks} line {error.lineno}: SyntaxError: {error.msg}.") from None
    except (ValueError, OSError) as error:
        raise ContentError(f"{checks}: cannot be read as Python ({error}).") from None


def _step_folder(
    module_id: str, number: int, slug: str, section: str, folder: Path, compile_checks: bool
) -> Step:
    """The step in ``folder``: its files and its ``step.toml``."""
    step_toml = folder / "step.toml"
    if not step_toml.is_file():
        raise ContentError(f"{step_toml}: missing (step {number:02d} {slug}).")
    for name in _STEP_FILES:
        if not (folder / name).is_file():
            raise ContentError(f"{folder / name}: missing (step {number:02d} {slug}).")
    if compile_checks:
        _checks_compile(folder / "checks.py")

    meta = _Fields(_read_toml(step_toml), step_toml)
    title = meta.required("title", str)
    hints = meta.required("hints", list)
    time_limit = meta.optional("time_limit_seconds", float, DEFAULT_TIME_LIMIT_SECONDS)
    raw_wrong = meta.optional("wrong_answers", list, [])
    raw_accepted = meta.optional("accepted_answers", list, [])
    changes_server = meta.optional("changes_server", bool, False)
    raw_equivalent = meta.optional("equivalent_mutants", list, [])
    requires = _requirements(meta.optional("requires", list, []), step_toml, "requires")
    meta.no_unknown()
    if not hints or not all(isinstance(hint, str) and hint.strip() for hint in hints):
        raise ContentError(f"{step_toml}: 'hints' must be a non-empty list of texts.")
    if time_limit <= 0:
        raise ContentError(f"{step_toml}: 'time_limit_seconds' must be positive.")

    wrong_answers = []
    for i, raw in enumerate(raw_wrong, 1):
        wrong = _Fields(raw, step_toml, f"wrong_answers[{i}]")
        answer = WrongAnswer(
            file=folder / wrong.required("file", str),
            about=wrong.required("about", str),
            fails=wrong.required("fails", str),
            says=wrong.required("says", str),
            requires=_requirements(
                wrong.optional("requires", list, []), step_toml, f"wrong_answers[{i}] requires"
            ),
        )
        wrong.no_unknown()
        if not answer.file.is_file():
            raise ContentError(f"{answer.file}: missing (named in {step_toml}).")
        wrong_answers.append(answer)

    accepted_answers = []
    for i, raw in enumerate(raw_accepted, 1):
        accepted = _Fields(raw, step_toml, f"accepted_answers[{i}]")
        answer_ok = AcceptedAnswer(
            file=folder / accepted.required("file", str),
            about=accepted.required("about", str),
            requires=_requirements(
                accepted.optional("requires", list, []),
                step_toml,
                f"accepted_answers[{i}] requires",
            ),
        )
        accepted.no_unknown()
        if not answer_ok.file.is_file():
            raise ContentError(f"{answer_ok.file}: missing (named in {step_toml}).")
        accepted_answers.append(answer_ok)

    return Step(
        module_id=module_id,
        number=number,
        slug=slug,
        title=title,
        section=section,
        folder=folder,
        hints=tuple(hints),
        time_limit_seconds=time_limit,
        wrong_answers=tuple(wrong_answers),
        accepted_answers=tuple(accepted_answers),
        changes_server=changes_server,
        equivalent_mutants=_equivalent_mutants(raw_equivalent, step_toml),
        requires=requires,
    )


_REQUIREMENT = re.compile(r"^[A-Z][A-Z0-9_-]*(?: [A-Z][A-Z0-9_-]*)?$")


def _requirements(raw: list[Any], step_toml: Path, where: str) -> tuple[str, ...]:
    """``["DELIFEQ", "SET IFEQ"]``: command names, each optionally with one option, upper case."""
    for item in raw:
        if not isinstance(item, str) or not _REQUIREMENT.match(item):
            raise ContentError(
                f"{step_toml}: {where}: {item!r} should be a command in capitals, optionally "
                'with one of its options, like "DELIFEQ" or "SET IFEQ".'
            )
    return tuple(raw)


def _equivalent_mutants(raw_list: list[Any], step_toml: Path) -> tuple[EquivalentMutant, ...]:
    mutants = []
    for i, raw in enumerate(raw_list, 1):
        fields = _Fields(raw, step_toml, f"equivalent_mutants[{i}]")
        mutants.append(
            EquivalentMutant(id=fields.required("id", str), why=fields.required("why", str))
        )
        fields.no_unknown()
    if len({mutant.id for mutant in mutants}) != len(mutants):
        raise ContentError(f"{step_toml}: two equivalent_mutants share an id.")
    return tuple(mutants)


def _article(word: str) -> str:
    """``an`` before a vowel (an int), else ``a`` (a str)."""
    return "an" if word[:1] in "aeiou" else "a"
