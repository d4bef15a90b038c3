"""Run the ``run:`` steps of a GitHub Actions workflow's job as written, on this machine.

``python scripts/run_workflow.py WORKFLOW --workspace DIR --runner-temp DIR [--job NAME]``

What GitHub would do for a job on ``ubuntu-latest``, as far as the steps' own commands go:
each ``run:`` step runs with ``bash --noprofile --norc -eo pipefail`` in its
``working-directory`` (relative to ``GITHUB_WORKSPACE``; the workspace by default), with the
job's ``env`` and then the step's ``env`` on top of this process's environment, and
``RUNNER_TEMP`` and ``GITHUB_WORKSPACE`` set. ``${{ runner.temp }}`` and
``${{ github.workspace }}`` are substituted (in ``run``, ``env`` and ``working-directory``);
any other ``${{ ... }}`` expression is refused (exit 2), so a step is never run with a text
it does not have on GitHub. ``uses:`` steps
(checkout, setup-python, upload-artifact) are skipped and named: the caller prepares what they
would (the workspace holds the checkout). A failing step stops the job, like GitHub; a step
with ``if: always()`` still runs. Exit: the first failing step's status, else 0.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def substitute(text: str, context: dict[str, str]) -> str:
    """``text`` with ``${{ runner.temp }}`` and ``${{ github.workspace }}`` filled in.

    Raises:
        ValueError: another expression, which this runner cannot evaluate.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in context:
            raise ValueError(f"cannot evaluate ${{{{ {name} }}}} outside GitHub")
        return context[name]

    return _EXPRESSION.sub(value, text)


def _env(table: Any, context: dict[str, str]) -> dict[str, str]:
    if not table:
        return {}
    return {str(key): substitute(str(value), context) for key, value in dict(table).items()}


def run_job(workflow: Path, job_name: str | None, workspace: Path, runner_temp: Path) -> int:
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    jobs = document["jobs"]
    name = job_name or next(iter(jobs))
    job = jobs[name]
    context = {"runner.temp": str(runner_temp), "github.workspace": str(workspace)}
    base = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_WORKSPACE": str(workspace)}
    base.update(_env(job.get("env"), context))
    failed = 0
    for number, step in enumerate(job["steps"], start=1):
        title = step.get("name") or step.get("uses") or f"step {number}"
        if "uses" in step:
            print(f"workflow: skipped (uses: {step['uses']}): {title}", file=sys.stderr)
            continue
        condition = str(step.get("if", "success()")).strip()
        if failed and "always()" not in condition:
            print(f"workflow: not run (an earlier step failed): {title}", file=sys.stderr)
            continue
        env = {**base, **_env(step.get("env"), context)}
        folder = workspace / substitute(str(step.get("working-directory", ".")), context)
        script = substitute(str(step["run"]), context)
        print(f"workflow: {title}", file=sys.stderr)
        print(f"+ (in {folder}) {script.rstrip()}", file=sys.stderr)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=folder,
            env=env,
            check=False,
        )
        if done.returncode != 0 and not failed:
            print(f"workflow: failed with exit {done.returncode}: {title}", file=sys.stderr)
            failed = done.returncode
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", type=Path)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--runner-temp", type=Path, required=True)
    parser.add_argument("--job")
    options = parser.parse_args()
    try:
        status = run_job(
            options.workflow,
            options.job,
            options.workspace.resolve(),
            options.runner_temp.resolve(),
        )
    except (ValueError, KeyError, yaml.YAMLError) as error:
        print(f"workflow: {options.workflow}: {error}", file=sys.stderr)
        status = 2
    raise SystemExit(status)


if __name__ == "__main__":
    main()
