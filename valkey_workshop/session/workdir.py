"""The learner's workdir: one folder per module, one exercise file per step, backups.

A learner's file is never overwritten without a backup: ``prepare`` only creates missing files,
``reset`` copies the current file to ``<workdir>/.backups/`` before restoring the starter.

Nothing outside the workdir is written or shown: a path that resolves outside it (a symbolic
link in a module folder, an exercise file or ``.backups``) is refused with a message, and new
files are created exclusively, so a link planted where a new file goes is never followed.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from valkey_workshop.content.models import Module, Step
from valkey_workshop.errors import UsageError
from valkey_workshop.session.progress import ProgressStore

WORKDIR_ENV = "WORKSHOP_WORKDIR"
DEFAULT_WORKDIR = "workshop-labs"


def resolve_workdir(flag: Path | None) -> Path:
    """``--workdir`` > ``$WORKSHOP_WORKDIR`` > ``./workshop-labs``, as an absolute path.

    Raises:
        UsageError: ``~user`` names no user, or the path is a file, has a name too long for
            the file system, or cannot be looked at (it may be missing: it is created on use).
    """
    source = "--workdir" if flag else (WORKDIR_ENV if os.environ.get(WORKDIR_ENV) else "")
    chosen = flag or Path(os.environ.get(WORKDIR_ENV) or DEFAULT_WORKDIR)
    named = f"{source} {str(chosen)!r}" if source else f"The workdir {str(chosen)!r}"
    try:
        root = chosen.expanduser().resolve()
    except RuntimeError as error:  # "~nosuchuser": expanduser cannot find the home folder
        raise UsageError(f"{named}: {error}") from error
    try:
        mode = root.stat().st_mode
    except FileNotFoundError:
        return root  # created when the first file is written
    except OSError as error:
        raise UsageError(f"{named} cannot be used: {error.strerror or error}.") from error
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{named} is a file, not a folder; choose a folder for your exercises.")
    return root


@dataclass(frozen=True)
class ResetOutcome:
    """What ``reset`` did to one exercise file."""

    exercise: Path
    backup: Path | None


class Workdir:
    """Exercise files and progress for one learner."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.progress = ProgressStore(root)

    def exercise_path(self, step: Step) -> Path:
        return self.root / step.module_id / step.exercise_filename

    def inside(self, path: Path) -> Path:
        """``path`` itself, once it is known to resolve inside the workdir.

        Raises:
            UsageError: a symbolic link on the way leads outside; nothing was read or written.
        """
        root = self.root.resolve()
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError) as error:  # 3.11: RuntimeError; 3.13: OSError ELOOP
            raise UsageError(
                f"{path} is a loop of symbolic links, not a file; it was left alone. Remove "
                "it, then run the command again (a missing exercise file is created anew)."
            ) from error
        if not resolved.is_relative_to(root):
            raise UsageError(
                f"{path} leads outside the workdir {root} (to {resolved}, through a symbolic "
                "link); it was left alone. Remove the link, or choose another --workdir."
            )
        return path

    def prepare(self, module: Module) -> list[Path]:
        """Create the missing exercise files from starters; return the ones created.

        Raises:
            UsageError: the module's folder is taken by a file, or cannot be written.
        """
        folder = self.root / module.id
        if folder.exists() and not folder.is_dir():
            raise UsageError(
                f"{folder} is a file, not a folder: the exercise files of {module.id} go in a "
                "folder of that name. Rename or move that file (it was left alone), then run "
                "the command again."
            )
        created = []
        for step in module.steps:
            target = self.exercise_path(step)
            if target.exists() or step.problem is not None:
                continue  # a broken step has no starter to copy (its row says why)
            self.inside(target)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                self.inside(target)  # the folder may be a link made in between
                _create(target, step.starter.read_bytes())
            except FileExistsError:
                continue  # created meanwhile (or a dangling link): never overwritten
            except OSError as error:
                raise UsageError(f"Cannot create {target}: {error.strerror}.") from error
            created.append(target)
        return created

    def reset(self, step: Step, now: datetime | None = None) -> ResetOutcome:
        """Restore the starter; the learner's file is kept as a timestamped backup first.

        Raises:
            UsageError: the exercise file or the backup folder leads outside the workdir, or
                cannot be written.
        """
        target = self.inside(self.exercise_path(step))
        try:
            return self._reset(step, target, now)
        except OSError as error:
            raise UsageError(
                f"Cannot reset {target}: {error.strerror or error}"
                + (f" ({error.filename})" if error.filename else "")
                + "."
            ) from error

    def _reset(self, step: Step, target: Path, now: datetime | None) -> ResetOutcome:
        backup = None
        starter = step.starter.read_bytes()
        _refuse_non_file(target)
        if target.exists():
            current = target.read_bytes()
            if current == starter:
                return ResetOutcome(target, None)  # already the starter: nothing to keep
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
            folder = self.inside(self.root / ".backups" / step.module_id)
            folder.mkdir(parents=True, exist_ok=True)
            self.inside(folder)
            backup = folder / f"{target.stem}.{stamp}.py"
            counter = 1
            while True:  # two resets in one second keep both files
                try:
                    _create(backup, current)
                    break
                except FileExistsError:
                    backup = folder / f"{target.stem}.{stamp}-{counter}.py"
                    counter += 1
            shutil.copystat(target, backup)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.inside(target)
        target.write_bytes(starter)
        return ResetOutcome(target, backup)


def _refuse_non_file(path: Path) -> None:
    """Nothing but a regular file (or nothing) is read or replaced: reading a FIFO waits for
    a writer for ever, a folder or a device is not the learner's exercise.

    Raises:
        UsageError: ``path`` (or what its link points to) is a FIFO, a folder or a special
            file; it was left alone.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return  # missing, or a dangling link: the starter is written (a new file)
    if stat.S_ISREG(mode):
        return
    kind = (
        "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a folder"
        if stat.S_ISDIR(mode)
        else "a special file"
    )
    raise UsageError(
        f"{path} is {kind}, not an exercise file; it was left alone. Remove or rename it, "
        "then run the command again (the starter is then written in its place)."
    )


def _create(path: Path, data: bytes) -> None:
    """Write a new file; FileExistsError when anything (a file, a link) is already there."""
    with path.open("xb") as stream:
        stream.write(data)
