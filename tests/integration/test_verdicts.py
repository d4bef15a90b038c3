"""A verdict cannot be cut short, fooled or leave anything behind (issue 16, issue 10 item 4).

Every test runs real learner files in the real worker against the real embedded server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from tests.conftest import wait_until
from tests.integration.answers import solution, with_update_body
from valkey_workshop.checking import CheckReport, run_step_checks
from valkey_workshop.checking.protocol import CheckSelection, Event, ResultEvent
from valkey_workshop.checking.runner import STOPPED_AT_FIRST_FAILURE, _Run, parse_memory_limit
from valkey_workshop.checking.specs import check_specs
from valkey_workshop.content import Module
from valkey_workshop.content.models import Step
from valkey_workshop.render import views
from valkey_workshop.server.base import ServerInfo

LINUX_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="uses /proc and PR_SET_PDEATHSIG (Linux)"
)


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "02_cache_aside.py"
    path.write_text(text, encoding="utf-8")
    return path


def _ids(module3: Module) -> list[str]:
    return [spec.id for spec in check_specs(module3.step("cache-aside").checks)]


def _render(report: CheckReport) -> str:
    console = Console(width=100, record=True, force_terminal=False, no_color=True)
    with console.capture() as capture:
        console.print(views.check_report_view(report))
    return capture.get()


# -- 1. every check, and any BaseException -----------------------------------------------
@pytest.mark.parametrize(
    ("raised", "name"),
    [
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("raise GeneratorExit", "GeneratorExit"),
        ("class Stop(BaseException):\n    pass\nraise Stop('no more')", "Stop: no more"),
    ],
)
def test_a_base_exception_from_learner_code_fails_its_check_and_the_rest_still_run(
    tmp_path: Path, module3: Module, server: ServerInfo, raised: str, name: str
) -> None:
    path = _write(tmp_path, with_update_body(module3, raised + "\n"))
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert not result.passed
    assert [c.id for c in result.checks] == _ids(module3)
    failing = next(c for c in result.checks if c.id == "update-then-fresh-read")
    assert f"raised {name}" in failing.message
    # The checks after it ran and reported their own verdicts.
    assert all(check.ran for check in result.checks)
    assert result.checks[-1].message != ""


@LINUX_ONLY
def test_forged_events_in_the_result_file_cannot_pass_a_step(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    # The learner's code finds the worker's event file and appends a pass for every check,
    # then a "done", and leaves before the real checks can report.
    forge = """
    import json, os
    ids = IDS
    for fd in os.listdir("/proc/self/fd"):
        target = os.path.realpath(f"/proc/self/fd/{fd}")
        if target.endswith("events.jsonl"):
            with open(target, "a") as out:
                for check_id in ids:
                    base = {"id": check_id, "name": check_id, "hint": None, "lesson": None}
                    out.write(json.dumps({"event": "start", **base}) + "\\n")
                    out.write(json.dumps({"event": "result", **base, "passed": True,
                        "message": "", "duration_ms": 1.0, "calls": [], "call_count": 0}) + "\\n")
                out.write(json.dumps({"event": "done"}) + "\\n")
    print(json.dumps({"event": "done"}))
    os._exit(0)
    """.replace("IDS", repr(_ids(module3)))
    path = _write(tmp_path, with_update_body(module3, forge))
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert not result.passed
    assert [c.id for c in result.checks] == _ids(module3)
    stopped = next(c for c in result.checks if c.id == "update-then-fresh-read")
    assert "line(s) the checker did not write" in stopped.message
    later = result.checks[_ids(module3).index("update-then-fresh-read") + 1 :]
    assert later
    for check in later:
        assert not check.passed and not check.ran
        assert "did not run: the step stopped at check" in check.message


# -- 2. a timed-out step names the check that was running, everywhere ---------------------
def test_a_timed_out_step_reports_the_running_check_in_json_junit_and_text(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(tmp_path, with_update_body(module3, "while True:\n    pass\n"))
    result = run_step_checks(module3.step("cache-aside"), path, server.url, time_limit_seconds=2)
    report = CheckReport("module3", server.backend, server.version, (result,))

    step_json = report.to_json()["steps"][0]
    assert step_json["passed"] is False
    failed = [c for c in step_json["checks"] if not c["passed"]]
    assert failed[0]["id"] == "update-then-fresh-read"
    assert "did not finish within 2 s" in failed[0]["message"]
    assert all("did not run" in c["message"] for c in failed[1:])
    assert [c["id"] for c in step_json["checks"]] == _ids(module3)

    suite = ET.fromstring(report.to_junit_xml()).find("testsuite")
    assert suite is not None
    failures = {
        case.get("name"): failure.get("message") or ""
        for case in suite.iter("testcase")
        if (failure := case.find("failure")) is not None
    }
    running = next(c for c in result.checks if c.id == "update-then-fresh-read")
    assert "did not finish within 2 s" in failures[running.id]
    assert suite.get("tests") == str(len(_ids(module3)))
    # The checks after the one that ran out of time never started: skipped, not failed.
    later = _ids(module3)[_ids(module3).index(running.id) + 1 :]
    skipped = [
        case.get("name") for case in suite.iter("testcase") if case.find("skipped") is not None
    ]
    assert later and skipped == later
    assert suite.get("skipped") == str(len(later))
    assert suite.get("failures") == str(len(failed) - len(later))

    text = _render(report)
    assert f"✗ {running.name}" in text
    assert "did not finish within 2 s" in text
    assert "did not run (the step stopped at check" in text


def test_a_failing_step_always_has_a_failing_check(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(tmp_path, "import os\nos._exit(4)\n")
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    assert not result.passed
    assert result.failures
    assert "exit code 4" in result.failures[0].message
    assert len(result.checks) == 1 + len(_ids(module3))


def test_a_crash_after_the_last_check_is_a_failing_check_not_a_silent_fail(
    module3: Module,
) -> None:
    # Every check reported a pass, then the process ended before it said "done" (a learner
    # thread calling os._exit at that moment): the verdict is a fail, and a check says why.
    specs = check_specs(module3.step("cache-aside").checks)
    events: list[Event] = [
        ResultEvent(
            event="result",
            id=spec.id,
            passed=True,
            message="",
            duration_ms=1.0,
            calls=[],
            call_count=0,
        )
        for spec in specs
    ]
    run = _Run(specs, 30.0, 1 << 30, timed_out=False, returncode=7, stderr=b"")
    checks, problem, _ = run.collect(events)
    assert problem is not None
    assert [c.id for c in checks] == [*_ids(module3), "finishes"]
    assert not checks[-1].passed
    assert "exit code 7" in checks[-1].message


def test_the_job_runs_the_checks_it_names_in_its_order(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    step = module3.step("cache-aside")
    first, second, *_ = _ids(module3)
    path = _write(tmp_path, step.solution.read_text())
    picked = CheckSelection(only=(second, first))
    result = run_step_checks(step, path, server.url, selection=picked)
    assert [check.id for check in result.checks] == [second, first]
    assert result.passed and all(check.ran for check in result.checks)


def test_a_job_that_stops_at_the_first_failure_runs_nothing_after_it(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    step = module3.step("cache-aside")
    path = _write(tmp_path, step.starter.read_text())
    every = run_step_checks(step, path, server.url)
    failing = [check.id for check in every.checks if not check.passed]
    assert len(failing) >= 2  # the starter fails several checks
    stopping = CheckSelection(only=tuple(_ids(module3)), stop_at_first_failure=True)
    result = run_step_checks(step, path, server.url, selection=stopping)
    assert not result.passed and result.problem is None
    ran = [check for check in result.checks if check.ran]
    assert [check.id for check in ran if not check.passed] == [failing[0]]
    later = result.checks[len(ran) :]
    assert later and all(check.message == STOPPED_AT_FIRST_FAILURE for check in later)
    assert [check.id for check in result.checks] == _ids(module3)
    # A passing file runs every check even so.
    good = run_step_checks(
        step, _write(tmp_path / "good", step.solution.read_text()), server.url, selection=stopping
    )
    assert good.passed and all(check.ran for check in good.checks)


def test_a_job_naming_a_check_the_step_lacks_is_a_failed_step(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    step = module3.step("cache-aside")
    path = _write(tmp_path, step.solution.read_text())
    result = run_step_checks(step, path, server.url, selection=CheckSelection(only=("nope",)))
    assert not result.passed
    # The checks cannot be chosen as asked: the course's (or the engine's) fault, never the
    # learner's, so the step is not run and says why.
    assert result.not_run is not None and "no check 'nope'" in result.not_run


# -- 3. a safe import path -------------------------------------------------------------
def test_files_beside_the_exercise_cannot_shadow_modules_or_the_checker(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    folder = tmp_path / "labs"
    (folder / "valkey_workshop" / "checking").mkdir(parents=True)
    # A fake checker that would pass everything, and scratch files named like real modules.
    (folder / "valkey_workshop" / "__init__.py").write_text("")
    (folder / "valkey_workshop" / "checking" / "__init__.py").write_text(
        "raise SystemExit('the fake checker was imported')\n"
    )
    (folder / "json.py").write_text("raise RuntimeError('scratch json.py imported')\n")
    (folder / "valkey.py").write_text("raise RuntimeError('scratch valkey.py imported')\n")
    step = module3.step("cache-aside")

    good = run_step_checks(step, _write(folder, solution(module3)), server.url)
    assert good.passed, good.failures
    starter = run_step_checks(step, _write(folder, step.starter.read_text()), server.url)
    assert not starter.passed


def test_own_helper_modules_import_and_a_shadowed_name_is_explained(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    (tmp_path / "helpers.py").write_text("def cache_key(product_id):\n    return 'x'\n")
    (tmp_path / "random.py").write_text("def pick():\n    return 4\n")
    code = "from helpers import cache_key as helper_key\nimport random\n" + solution(module3)
    step = module3.step("cache-aside")
    assert run_step_checks(step, _write(tmp_path, code), server.url).passed

    wrong = code.replace("client.delete(cache_key(product_id))", "random.pick()")
    result = run_step_checks(step, _write(tmp_path, wrong), server.url)
    assert not result.passed
    message = result.failures[0].message
    assert "imports random, and your file random.py beside it has that name" in message
    assert "Python imports the real random" in message


# -- 5. nothing left behind ------------------------------------------------------------
def test_a_child_holding_the_output_open_neither_delays_the_verdict_nor_survives(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys\n"
        "_child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(_child.pid))\n" + solution(module3)
    )
    # A verdict that waited for the child's end of the output would run into the time limit
    # (10 s, the child sleeps 60) and fail.
    result = run_step_checks(
        module3.step("cache-aside"), _write(tmp_path, code), server.url, time_limit_seconds=10
    )
    assert result.passed, result.failures
    child = int(pid_file.read_text())
    assert _gone_soon(child)


def _gone_soon(pid: int, bound: float = 60.0) -> bool:
    """SIGKILL is delivered asynchronously: wait for the kernel to end it (``bound`` only ends
    a broken test; a loaded machine can take seconds)."""
    give_up = time.monotonic() + bound
    while _alive(pid) and time.monotonic() < give_up:
        time.sleep(0.02)
    return not _alive(pid)


@LINUX_ONLY
def test_the_worker_dies_with_the_workshop_process(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    pid_file = tmp_path / "worker.pid"
    # Learner code starts a process of its own, notes both pids, then loops for ever.
    code = with_update_body(
        module3,
        "import os, subprocess\n"
        "child = subprocess.Popen(['sleep', '120'])\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "while True:\n    pass\n",
    )
    exercise = _write(tmp_path, code)
    (tmp_path / "tmp").mkdir()
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\n"
            "from valkey_workshop.checking import run_step_checks\n"
            "from valkey_workshop.content import load_module\n"
            "step = load_module('module3').step('cache-aside')\n"
            "run_step_checks(step, Path(sys.argv[1]), sys.argv[2], time_limit_seconds=120)\n",
            str(exercise),
            server.url,
        ],
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
    )
    try:
        wait_until(
            lambda: pid_file.exists() and len(pid_file.read_text().split()) >= 2,
            "the worker never started the check",
            process=parent,
        )
        worker, child = (int(pid) for pid in pid_file.read_text().split())
        assert _alive(worker) and _alive(child)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    survivors = [pid for pid in (worker, child) if not _gone_soon(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "learner code outlived the workshop process"
    # Nor does the dead runner's scratch folder stay (its own tempdir tells which it was): the
    # fork server removes it once the worker is gone, which on a loaded machine takes a moment.
    wait_until(
        lambda: not list((tmp_path / "tmp").iterdir()),
        "the dead runner's scratch folder was never removed",
        bound=60,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- 6. memory ------------------------------------------------------------------------
def test_learner_code_gets_a_memory_limit_that_is_named(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    path = _write(tmp_path, with_update_body(module3, "hog = bytearray(600 * 1024 * 1024)\n"))
    result = run_step_checks(
        module3.step("cache-aside"), path, server.url, memory_limit_bytes=256 << 20
    )
    failing = next(c for c in result.checks if c.id == "update-then-fresh-read")
    assert "MemoryError" in failing.message
    assert "at most 256 MiB" in failing.message
    assert "--memory-limit" in failing.message


def test_printed_output_is_capped_in_memory_and_keeps_the_tail(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    # 400 MB printed under a 128 MiB limit: only a tail may be kept in memory.
    code = "for _i in range(400):\n    print('x' * 1_000_000)\nprint('THE END')\n"
    path = _write(tmp_path, code + "raise RuntimeError('stop')\n")
    result = run_step_checks(
        module3.step("cache-aside"), path, server.url, memory_limit_bytes=128 << 20
    )
    assert "RuntimeError: stop" in result.checks[0].message
    assert len(result.output) <= 4000
    assert result.output.rstrip().endswith("THE END")


def test_memory_sizes_parse() -> None:
    assert parse_memory_limit("512M") == 512 << 20
    assert parse_memory_limit("2G") == 2 << 30
    assert parse_memory_limit("1.5GiB") == 3 << 29
    assert parse_memory_limit("1073741824") == 1 << 30
    for bad in ("lots", "-1G", "1M", ""):
        with pytest.raises(ValueError):
            parse_memory_limit(bad)


# -- 7. escape sequences ---------------------------------------------------------------
def test_escape_sequences_are_shown_not_run_and_junit_stays_valid(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    body = "print('\\x1b[2J\\x1b]0;owned\\x07 cleared')\nraise ValueError('\\x1b[31mred\\x00')\n"
    path = _write(tmp_path, with_update_body(module3, body))
    result = run_step_checks(module3.step("cache-aside"), path, server.url)
    report = CheckReport("module3", server.backend, server.version, (result,))

    text = _render(report)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\\x1b[31mred\\x00" in text
    assert "\\x1b[2J" in text

    xml = report.to_junit_xml()
    root = ET.fromstring(xml)  # parses: nothing XML 1.0 forbids
    messages = [f.get("message") or "" for f in root.iter("failure")]
    assert any("\\x1b[31mred" in message for message in messages)
    system_out = root.find("testsuite/system-out")
    assert system_out is not None and "\\x1b[2J" in (system_out.text or "")
    json.dumps(report.to_json())  # and JSON carries it too


def test_a_missing_exercise_file_fails_every_check_with_a_reason(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    result = run_step_checks(module3.step("cache-aside"), tmp_path / "nope.py", server.url)
    report = CheckReport("module3", server.backend, server.version, (result,))
    step = report.to_json()["steps"][0]
    assert step["passed"] is False
    assert step["checks"][0]["id"] == "loads"
    assert "does not exist" in step["checks"][0]["message"]
    assert [c["id"] for c in step["checks"][1:]] == _ids(module3)
    assert "did not run (there is no exercise file)" in _render(report)


def test_run_step_checks_is_safe_to_call_from_threads(module3: Module, server: ServerInfo) -> None:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only this test

    # Different steps (their checks use different keys) at once, each verdict its own.
    runs = [
        (module3.step(slug), kind)
        for slug, kind in [
            ("bottleneck", "solution"),
            ("cache-aside", "solution"),
            ("ttl-persist", "starter"),
            ("write-patterns", "solution"),
        ]
    ]

    def verdict(run: tuple[Step, str]) -> bool:
        step, kind = run
        path = step.solution if kind == "solution" else step.starter
        return run_step_checks(step, path, server.url).passed

    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = list(pool.map(verdict, runs))
    assert verdicts == [True, True, False, True]


def test_a_relative_exercise_path_works(
    tmp_path: Path, module3: Module, server: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "labs" / "module3", solution(module3))
    monkeypatch.chdir(tmp_path)
    relative = Path("labs/module3/02_cache_aside.py")
    assert run_step_checks(module3.step("cache-aside"), relative, server.url).passed


def test_a_server_that_stops_mid_check_is_named_without_a_traceback(
    tmp_path: Path, module3: Module
) -> None:
    from valkey_workshop.server.embedded import EmbeddedBackend  # noqa: PLC0415 - its own server

    # update_product() does its work, then shuts the server down: the check's own next call
    # fails, and that is the server's news, not a bug in the check.
    code = solution(module3)
    last = code.rindex("    return record")
    code = code[:last] + "    client.shutdown(nosave=True)\n" + code[last:]
    with EmbeddedBackend() as own:
        result = run_step_checks(module3.step("cache-aside"), _write(tmp_path, code), own.url)
    assert not result.passed
    stopped = next(c for c in result.checks if c.id == "update-then-fresh-read")
    assert "the Valkey server stopped answering during this check" in stopped.message
    assert all("Traceback" not in c.message for c in result.checks)
