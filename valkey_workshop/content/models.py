"""The lab format as frozen dataclasses.

A module is a folder ``labs/<module>/`` holding ``module.toml`` and one folder per step named
``NN_slug`` (slug with ``_`` for ``-``). A step folder holds:

- ``step.toml``: title, hints, time limit, known-wrong answers (see :mod:`.loader`);
- ``lesson.md``: the explanation, Markdown;
- ``demo.py``: ``run(demo)`` driving a :class:`~valkey_workshop.demo.DemoContext`;
- ``starter.py``: the learner's file as first handed out (TODOs, raises ``NotImplementedError``);
- ``solution.py``: the reference solution;
- ``checks.py``: the step's checks (see :mod:`valkey_workshop.checking.api`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from valkey_workshop.errors import UsageError

#: The lab format this engine reads. A module declares the version it was written for.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Section:
    """A part of the module's timing plan (the trainer's agenda).

    A ``self_paced`` section lies outside the timed plan: learners work through it on their
    own, ``minutes`` is a rough guide for them, and the presenter's timer never calls it over.
    """

    id: str
    title: str
    minutes: int
    self_paced: bool = False


@dataclass(frozen=True)
class WrongAnswer:
    """A known-wrong exercise file that the step's checks must reject.

    ``verify`` runs it and requires that check ``fails`` fails with a message containing
    ``says``, so a wrong answer is not only rejected but rejected for the right reason.
    """

    file: Path
    about: str
    fails: str
    says: str
    #: What the server must support for this proof to apply (see ``Step.requires``).
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class AcceptedAnswer:
    """A correct exercise file in another style that the step's checks must accept."""

    file: Path
    about: str
    #: What the server must support for this proof to apply (see ``Step.requires``).
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class EquivalentMutant:
    """A mutant of the reference solution that is still a right answer (``verify --mutants``).

    ``id`` is the mutant's stable id; ``why`` says why the mutated code is still correct.
    """

    id: str
    why: str


@dataclass(frozen=True)
class Step:
    """One numbered step of a module."""

    module_id: str
    number: int
    slug: str
    title: str
    section: str
    folder: Path
    hints: tuple[str, ...]
    time_limit_seconds: float
    wrong_answers: tuple[WrongAnswer, ...]
    accepted_answers: tuple[AcceptedAnswer, ...] = ()
    #: The checks change server-wide state (CONFIG SET, memory limits, FLUSH*): they need a
    #: server that holds only the workshop's own data, and a server of their own when proofs
    #: run in parallel.
    changes_server: bool = False
    equivalent_mutants: tuple[EquivalentMutant, ...] = ()
    #: Commands the server must know for the step to run: ``"DELIFEQ"``, or a command and one
    #: of its options, ``"SET IFEQ"``. On a server without them the step is not applicable.
    requires: tuple[str, ...] = ()
    #: The module's ``owned_keys``: key patterns its checks and demos write beside
    #: ``workshop:*``, which the server guard treats as the workshop's.
    owned_keys: tuple[str, ...] = ()
    #: Why the step's files cannot be used ("…/step.toml: missing"), or ``None``. A broken step
    #: stays in the module as one failed row; the other steps are unaffected.
    problem: str | None = None

    @property
    def exercise_filename(self) -> str:
        """The learner's file name in the workdir, e.g. ``02_cache_aside.py``."""
        return f"{self.number:02d}_{self.slug.replace('-', '_')}.py"

    @property
    def lesson(self) -> Path:
        return self.folder / "lesson.md"

    @property
    def demo(self) -> Path:
        return self.folder / "demo.py"

    @property
    def starter(self) -> Path:
        return self.folder / "starter.py"

    @property
    def solution(self) -> Path:
        return self.folder / "solution.py"

    @property
    def checks(self) -> Path:
        return self.folder / "checks.py"

    @property
    def label(self) -> str:
        """``02 cache-aside``: how steps are named in output."""
        return f"{self.number:02d} {self.slug}"


@dataclass(frozen=True)
class Module:
    """A course module: its timing plan and its ordered steps."""

    id: str
    title: str
    summary: str
    format_version: int
    sections: tuple[Section, ...]
    steps: tuple[Step, ...]
    root: Path
    #: Key patterns (Valkey globs) the module's checks and demos write beside ``workshop:*``.
    owned_keys: tuple[str, ...] = ()

    def unlisted_step_folders(self) -> tuple[Path, ...]:
        """Folders that look like steps (``NN_name/`` holding a ``step.toml``) but that
        ``module.toml`` does not list: nothing runs or verifies them."""
        listed = {step.folder.resolve() for step in self.steps}
        try:
            children = sorted(self.root.iterdir())
        except OSError:
            return ()
        return tuple(
            child
            for child in children
            if child.name[:2].isdigit()
            and child.name[2:3] == "_"
            and (child / "step.toml").is_file()
            and child.resolve() not in listed
        )

    @property
    def planned_minutes(self) -> int:
        """The timed plan's length; self-paced sections are not part of it."""
        return sum(section.minutes for section in self.sections if not section.self_paced)

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)  # the loader guarantees every step's section exists

    def step(self, ref: str | int) -> Step:
        """Find a step by number (``2``, ``"02"``) or slug (``"cache-aside"``).

        Raises:
            UsageError: no such step; the message lists the module's steps.
        """
        text = str(ref).strip()
        # ASCII digits only ("²" is a digit int() refuses), and few of them: int() refuses a
        # string of more than 4,300 digits, and no module has 10,000 steps.
        number = int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None
        for step in self.steps:
            if number == step.number:
                return step
            if text.replace("_", "-").lower() == step.slug:
                return step
        known = ", ".join(step.label for step in self.steps)
        shown = text if len(text) <= 40 else f"{text[:37]}..."
        raise UsageError(f"Unknown step {shown!r} in {self.id}. Steps: {known}.")

    @property
    def notes(self) -> Path:
        """The trainer notes beside the module: ``<module>/trainer-notes.md``."""
        return self.root / "trainer-notes.md"

    @property
    def broken_steps(self) -> tuple[Step, ...]:
        """The steps whose files cannot be used (each says why in ``problem``)."""
        return tuple(step for step in self.steps if step.problem is not None)

    def without_broken_steps(self) -> Module:
        """This module with only its usable steps (for a guided session)."""
        return replace(self, steps=tuple(step for step in self.steps if step.problem is None))

    def select(self, ref: str | int | None) -> tuple[Step, ...]:
        """All steps, or the one ``ref`` names."""
        return self.steps if ref is None else (self.step(ref),)
