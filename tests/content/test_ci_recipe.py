"""The CI recipe for course repositories stays one recipe: the workflow in docs/ci-course.md
is the example course's file, and scripts/ci-course.sh runs the same steps."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "course-ratelimit" / ".github" / "workflows" / "verify.yml"
CONVERTER = REPO / "examples" / "course-ratelimit" / "ci" / "mutants_junit.py"


def test_the_documented_workflow_is_the_example_courses_file() -> None:
    assert WORKFLOW.read_text() in (REPO / "docs" / "ci-course.md").read_text()


def test_the_script_runs_the_workflows_commands() -> None:
    script = (REPO / "scripts" / "ci-course.sh").read_text()
    workflow = WORKFLOW.read_text()
    for step in ("list", "verify module4", "verify module4 --mutants --json", "mutants_junit.py"):
        assert step in script, step
    for step in (
        "list",
        'verify "$MODULE"',
        'verify "$MODULE" --mutants --json',
        "mutants_junit.py",
    ):
        assert step in workflow, step


def test_mutants_json_becomes_junit_with_survivors_as_failures(tmp_path: Path) -> None:
    report = {
        "module": "module4",
        "ok": False,
        "steps": [
            {
                "step": 1,
                "slug": "fixed-window",
                "error": None,
                "mutants": [
                    {"id": "a:f:1", "description": "<= → <", "outcome": "killed", "seconds": 0.1},
                    {"id": "b:f:2", "description": "drop nx", "outcome": "survived"},
                    {
                        "id": "c:f:3",
                        "description": "swap",
                        "outcome": "equivalent",
                        "detail": "why",
                    },
                ],
            },
            {"step": 2, "slug": "broken", "error": "step.toml: missing", "mutants": []},
        ],
    }
    source = tmp_path / "mutants.json"
    source.write_text(json.dumps(report))
    target = tmp_path / "junit.xml"
    done = subprocess.run([sys.executable, str(CONVERTER), str(source), str(target)], check=False)
    assert done.returncode == 1  # the report is not ok
    suites = ET.parse(target).getroot()
    first, second = suites.findall("testsuite")
    assert (first.get("tests"), first.get("failures")) == ("3", "1")
    cases = first.findall("testcase")
    assert cases[1].find("failure") is not None
    skipped = cases[2].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "why"
    assert second.find("testcase/failure").get("message") == "step.toml: missing"  # type: ignore[union-attr]
