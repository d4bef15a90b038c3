"""The learner's workdir: one folder per module, one exercise file per step, backups.

A learner's file is never overwritten without a backup: ``prepare`` only creates missing files,
``reset`` copies the current file to ``<workdir>/.backups/`` before restoring the starter.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from valkey_workshop.content.models import Module, Step
from valkey_workshop.errors import UsageError
from valkey_workshop.session.progress import ProgressStore

WORKDIR_ENV = "WORKSHOP_WORKDIR"
DEFAULT_WORKDIR = "workshop-labs"


def resolve_workdir(flag: Path | None) -> Path:
    """``--workdir`` > ``$WORKSHOP_WORKDIR`` > ``./workshop-labs``."""
    chosen = flag or Path(os.environ.get(WORKDIR_ENV) or DEFAULT_WORKDIR)
    return chosen.expanduser().resolve()


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

    def prepare(self, module: Module) -> list[Path]:
        """Create the missing exercise files from starters; return the ones created."""
        created = []
        for step in module.steps:
            target = self.exercise_path(step)
            if target.exists():
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(step.starter, target)
            except OSError as error:
                raise UsageError(f"Cannot create {target}: {error.strerror}.") from error
            created.append(target)
        return created

    def reset(self, step: Step, now: datetime | None = None) -> ResetOutcome:
        """Restore the starter; the learner's file is kept as a timestamped backup first."""
        target = self.exercise_path(step)
        backup = None
        if target.exists():
            if target.read_bytes() == step.starter.read_bytes():
                return ResetOutcome(target, None)  # already the starter: nothing to keep
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
            folder = self.root / ".backups" / step.module_id
            folder.mkdir(parents=True, exist_ok=True)
            backup = folder / f"{target.stem}.{stamp}.py"
            counter = 1
            while backup.exists():  # two resets in one second keep both files
                backup = folder / f"{target.stem}.{stamp}-{counter}.py"
                counter += 1
            shutil.copy2(target, backup)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(step.starter, target)
        return ResetOutcome(target, backup)
