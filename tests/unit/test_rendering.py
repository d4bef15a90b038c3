"""Terminal output at a fixed width, compared with reviewed golden files.

Regenerate a golden on purpose only: WORKSHOP_UPDATE_GOLDEN=1 pytest tests/unit/test_rendering.py,
then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from valkey_workshop.checking.results import CallView, CheckReport, CheckResult, StepResult
from valkey_workshop.content import Module
from valkey_workshop.render import views
from valkey_workshop.render.console import render_text
from valkey_workshop.results.status import ModuleStatus, ModuleSummary, StepStatus
from valkey_workshop.session.progress import CallExtreme, StepProgress

GOLDEN = Path(__file__).with_name("golden")


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WORKSHOP_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_failed_check_report_at_80_columns() -> None:
    report = CheckReport(
        module="module3",
        backend="embedded",
        server_version="9.1.2",
        steps=(
            StepResult(
                number=2,
                slug="cache-aside",
                title="Cache-aside",
                exercise=Path("/work/workshop-labs/module3/02_cache_aside.py"),
                duration_ms=412.3,
                checks=(
                    CheckResult(
                        "ttl-setting", "CACHE_TTL_SECONDS is a sensible number", True, "", 0.4
                    ),
                    CheckResult(
                        "invalidate-after-database-write",
                        "Invalidation follows the database write",
                        False,
                        "update_product() invalidated the cache before the database write. A read "
                        "that ran in between found no entry and cached the old record again.",
                        31.5,
                        hint=3,
                        lesson="The write path",
                        calls=(
                            CallView("DEL", "DEL product:P127:details", "1", 88.4),
                            CallView("GET", "GET product:P127:details", "None", 61.2),
                        ),
                    ),
                ),
            ),
        ),
    )
    assert_golden("check_report_80.txt", render_text(views.check_report_view(report), 80))


def test_module_summary_at_80_columns(module3: Module) -> None:
    steps = tuple(
        StepStatus(
            step,
            StepProgress(
                status="passed" if step.number <= 2 else "skipped", attempts=3, seconds_spent=125
            ),
            Path(f"/w/{step.exercise_filename}"),
        )
        for step in module3.steps
    )
    summary = ModuleSummary(
        status=ModuleStatus(module3, steps, None),
        total_seconds=1000,
        total_attempts=24,
        slowest=(module3.step(7), CallExtreme("DEL workshop:lazyfree:big", 148_900.0)),
        fastest=(module3.step(5), CallExtreme("GET workshop:tracking:price", 41.0)),
    )
    assert_golden("module_summary_80.txt", render_text(views.summary_view(summary), 80))
