"""Learner code runs isolated: whatever it does fails one step, clearly, and nothing else."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
from pathlib import Path

from valkey_workshop.checking import run_step_checks
from valkey_workshop.checking.protocol import Job
from valkey_workshop.checking.runner import _step_checks
from valkey_workshop.checking.worker import CHECKS_MODULE, _job_checks
from valkey_workshop.content import Module
from valkey_workshop.server.base import ServerInfo

SOLUTION_GET = """
import json
CACHE_TTL_SECONDS = 300

def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "02_cache_aside.py"
    path.write_text(text)
    return path


def test_syntax_error_names_file_and_line(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(
        tmp_path, "import json\n\ndef get_product_details(client, db, product_id)\n    pass\n"
    )
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert not result.passed
    loads, *others = result.checks
    assert loads.id == "loads"
    assert "02_cache_aside.py line 3 has a syntax error" in loads.message
    # Every other check is listed as a failure that did not run, and says why.
    defined = re.findall(r"^@check\(", module3.step("cache-aside").checks.read_text(), re.M)
    assert len(others) == len(defined) >= 8
    assert all(not c.passed and not c.ran for c in others)
    assert {c.message for c in others} == {"did not run: the exercise file does not load"}


def test_exception_names_the_line_in_the_learners_file(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    body = SOLUTION_GET.replace("return json.loads(cached)", "return json.loads(cached)['nope']")
    body = body.replace(
        "    record = db.get_product(product_id)\n",
        "    record = db.get_product(product_id)\n    record['x'] = 1 / 0\n",
    )
    path = _write(
        tmp_path,
        body
        + "\ndef update_product(client, db, product_id, changes):\n    raise NotImplementedError\n",
    )
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    miss = next(c for c in result.checks if c.id == "miss-reads-database-once")
    assert (
        "raised ZeroDivisionError: division by zero (02_cache_aside.py line 11: record['x'] = 1 / 0)"
        in miss.message
    )
    # The other checks still ran and reported: every check the step defines.
    defined = re.findall(r"^@check\(", module3.step("cache-aside").checks.read_text(), re.M)
    assert len(result.checks) == len(defined) >= 8
    assert next(c for c in result.checks if c.id == "ttl-setting").passed


def test_endless_loop_fails_within_the_time_limit(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(
        tmp_path,
        SOLUTION_GET
        + "\ndef update_product(client, db, product_id, changes):\n    while True:\n        pass\n",
    )
    result = run_step_checks(module3.step("cache-aside"), path, server.url, time_limit_seconds=3)
    assert not result.passed
    assert result.problem is not None
    assert "did not finish within 3 s during check 'update-then-fresh-read'" in result.problem
    # The checks that finished before the loop keep their results.
    assert [c.id for c in result.checks if c.passed][:3] == [
        "ttl-setting",
        "miss-reads-database-once",
        "cached-as-json-with-ttl",
    ]


def test_sys_exit_while_loading_is_reported(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(tmp_path, "import sys\nsys.exit(3)\n")
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert "called sys.exit(3) while loading" in result.checks[0].message


def test_os_exit_is_reported_as_a_crash(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(
        tmp_path,
        SOLUTION_GET
        + "\ndef update_product(client, db, product_id, changes):\n    import os\n    os._exit(9)\n",
    )
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert result.problem is not None
    assert (
        "ended unexpectedly (exit code 9) during check 'update-then-fresh-read'" in result.problem
    )


def test_learner_output_is_captured_not_mixed_into_results(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(tmp_path, "print('hello from the learner')\n" + SOLUTION_GET)
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert "hello from the learner" in result.output
    assert any(c.calls for c in result.checks)  # the learner's calls are listed per check


def test_scratch_folders_of_a_killed_workshop_are_removed_by_the_next_checker(
    tmp_path: Path,
) -> None:
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    finished = subprocess.Popen(["true"])  # a process that has ended: its pid owns nothing
    finished.wait()
    stale = Path(tempfile.gettempdir()) / f"workshop-check-{finished.pid}-test"
    stale.mkdir(exist_ok=True)
    (stale / "events.jsonl").write_text("left by a workshop killed with SIGKILL")
    mine = Path(tempfile.gettempdir()) / f"workshop-check-{os.getpid()}-test"
    mine.mkdir(exist_ok=True)  # a live owner's folder is never touched
    try:
        code = "from valkey_workshop.checking.runner import _sweep_stale_scratch as s; s()"
        subprocess.run([sys.executable, "-c", code], check=True)
        assert not stale.exists()
        assert mine.exists()
    finally:
        for folder in (stale, mine):
            if folder.exists():
                for item in folder.iterdir():
                    item.unlink()
                folder.rmdir()


def test_checks_file_is_read_once_per_content(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """The runner reads a step's check list once per content of its checks.py (``verify``
    asks for it per proof), and a changed file is read again."""
    step = module3.step("ttl-persist")
    folder = tmp_path / "03_ttl_persist"
    shutil.copytree(step.folder, folder)
    readers = tmp_path / "readers"
    checks = folder / "checks.py"
    checks.write_text(
        f"import os\nwith open({str(readers)!r}, 'a') as _f:\n    _f.write(f'{{os.getpid()}}\\n')\n"
        + checks.read_text()
    )
    copy = dataclasses.replace(step, folder=folder)
    for _ in range(2):
        assert run_step_checks(copy, step.solution, server.url).passed
    # The worker processes read it too, each once; this process only the first time.
    assert readers.read_text().split().count(str(os.getpid())) == 1

    checks.write_text(
        checks.read_text() + '\n\n@check("added-later", "A check added while the session runs")\n'
        "def added_later(ctx):\n    pass\n"
    )
    result = run_step_checks(copy, step.solution, server.url)
    assert [c.id for c in result.checks][-1] == "added-later"
    assert result.passed
    assert readers.read_text().split().count(str(os.getpid())) == 2


def test_worker_runs_the_checks_the_runner_compiled(tmp_path: Path) -> None:
    """A worker runs the runner's compiled ``checks.py`` (the job's ``checks_code``) instead
    of compiling the file again for every run; the module still knows its own file."""
    checks = tmp_path / "checks.py"
    checks.write_text(
        "from pathlib import Path\nfrom valkey_workshop.checking.api import check\n\n"
        'HERE = Path(__file__).name\n\n@check("on-disk", "The file on disk")\n'
        "def on_disk(ctx):\n    pass\n"
    )
    specs, code = _step_checks(checks)
    assert [spec.id for spec in specs] == ["on-disk"]
    # Whatever the file says by the time a worker starts, it runs what the runner read.
    checks.write_text("raise SystemExit('compiled again')\n")
    job = Job(
        checks=str(checks.resolve()),
        exercise=str(tmp_path / "exercise.py"),
        url="valkey://127.0.0.1:1",
        secret="",
        memory_limit=None,
        only=None,
        stop_at_first_failure=False,
        checks_code=code,
    )
    loaded = _job_checks(job)
    assert [spec.id for spec, _ in loaded] == ["on-disk"]
    assert sys.modules[CHECKS_MODULE].HERE == "checks.py"
    sys.modules.pop(CHECKS_MODULE, None)
