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


def test_the_script_runs_the_workflow_as_written() -> None:
    script = (REPO / "scripts" / "ci-course.sh").read_text()
    assert '"$repo/scripts/run_workflow.py"' in script
    assert '"$course/.github/workflows/verify.yml"' in script
    # it types none of the workflow's commands itself
    for command in ("verify module4", "--mutants", "mutants_junit.py", "ratelimit-lab"):
        assert command not in script.split("set -euo pipefail", 1)[1], command
    workflow = WORKFLOW.read_text()
    for step in (
        "list",
        'verify "$MODULE"',
        'verify "$MODULE" --mutants --json',
        "mutants_junit.py",
    ):
        assert step in workflow, step


def _run_workflow(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    workflow = tmp_path / "wf.yml"
    workflow.write_text(text)
    (tmp_path / "ws" / "sub").mkdir(parents=True)
    (tmp_path / "temp").mkdir()
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "run_workflow.py"),
            str(workflow),
            "--workspace",
            str(tmp_path / "ws"),
            "--runner-temp",
            str(tmp_path / "temp"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_run_workflow_runs_run_steps_with_the_jobs_env_and_folders(tmp_path: Path) -> None:
    done = _run_workflow(
        tmp_path,
        """
jobs:
  verify:
    env:
      WHO: job
      OUT: out.txt
    steps:
      - uses: actions/checkout@v4
      - name: first
        run: echo "$WHO $GITHUB_WORKSPACE" > "$RUNNER_TEMP/$OUT"
      - name: second
        working-directory: ${{ runner.temp }}
        env:
          WHO: step
          WHERE: ${{ runner.temp }}/x
        run: |
          echo "$WHO $WHERE $(pwd)" >> "$OUT"
      - name: relative
        working-directory: sub
        run: pwd >> "$RUNNER_TEMP/$OUT"
""",
    )
    assert done.returncode == 0, done.stderr
    assert "skipped (uses: actions/checkout@v4)" in done.stderr
    ws, temp = (tmp_path / "ws").resolve(), (tmp_path / "temp").resolve()
    assert (temp / "out.txt").read_text().splitlines() == [
        f"job {ws}",
        f"step {temp}/x {temp}",
        f"{ws}/sub",
    ]


def test_run_workflow_stops_at_a_failing_step_but_runs_always_steps(tmp_path: Path) -> None:
    done = _run_workflow(
        tmp_path,
        """
jobs:
  verify:
    steps:
      - run: |
          false | true || exit 3
          echo "pipefail makes the pipeline fail, as on GitHub"
      - name: skipped
        run: touch "$RUNNER_TEMP/skipped"
      - name: kept
        if: always()
        run: touch "$RUNNER_TEMP/kept"
""",
    )
    assert done.returncode == 3
    assert not (tmp_path / "temp" / "skipped").exists()
    assert (tmp_path / "temp" / "kept").exists()


def test_run_workflow_refuses_expressions_it_cannot_evaluate(tmp_path: Path) -> None:
    done = _run_workflow(
        tmp_path,
        "jobs:\n  j:\n    steps:\n      - run: echo ${{ secrets.TOKEN }}\n",
    )
    assert done.returncode == 2
    assert "cannot evaluate ${{ secrets.TOKEN }} outside GitHub" in done.stderr


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
