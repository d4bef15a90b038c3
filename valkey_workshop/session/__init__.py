"""The learner's side: the workdir (exercise files, backups) and progress."""

from valkey_workshop.session.progress import Progress, ProgressStore, StepProgress
from valkey_workshop.session.workdir import Workdir, resolve_workdir

__all__ = ["Progress", "ProgressStore", "StepProgress", "Workdir", "resolve_workdir"]
