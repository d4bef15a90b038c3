"""A step's checks read from its ``checks.py``: the one place that loads a checks module.

The runner reads the specs (ids, names, hints, lesson pointers) to know which results it
waits for; the worker loads the same module and runs the functions; both pick the checks a
:class:`~valkey_workshop.checking.protocol.CheckSelection` names with :func:`chosen`.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from valkey_workshop.checking.api import CheckFunction, CheckSpec, checks_in
from valkey_workshop.pyfile import load_file_as_module


def load_checks(
    checks_file: Path, module_name: str | None = None
) -> list[tuple[CheckSpec, CheckFunction]]:
    """The checks ``checks_file`` defines, in order, with their functions (the file is trusted
    course content). Without ``module_name`` the module is loaded under a unique name and not
    kept in ``sys.modules`` (threads may load the same file at once)."""
    if module_name is not None:
        return checks_in(load_file_as_module(checks_file, module_name))
    name = f"workshop_expected_checks_{uuid.uuid4().hex}"
    try:
        return checks_in(load_file_as_module(checks_file, name))
    finally:
        sys.modules.pop(name, None)


def check_specs(checks_file: Path) -> list[CheckSpec]:
    """The checks ``checks_file`` defines, in order."""
    return [spec for spec, _ in load_checks(checks_file)]


def chosen(specs: Sequence[CheckSpec], only: Sequence[str] | None) -> list[CheckSpec]:
    """The specs ``only`` names, in its order (every spec, in order, when ``only`` is None).

    Raises:
        ValueError: ``only`` names a check the step does not have.
    """
    if only is None:
        return list(specs)
    by_id = {spec.id: spec for spec in specs}
    unknown = [check_id for check_id in only if check_id not in by_id]
    if unknown:
        raise ValueError(f"the step has no check {', '.join(map(repr, unknown))}")
    return [by_id[check_id] for check_id in dict.fromkeys(only)]
