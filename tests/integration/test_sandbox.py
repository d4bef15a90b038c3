"""What learner code cannot do to its verdict by accident (README: "What a verdict proves"):
junk in the result file, raising its own limits, endless output, objects that lie about
equality. Real learner files, the real worker and the real embedded server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.answers import solution, with_update_body
from valkey_workshop.checking import run_step_checks
from valkey_workshop.checking.advice import NotPlainDataError, plain_data
from valkey_workshop.checking.results import StepResult
from valkey_workshop.checking.specs import check_specs
from valkey_workshop.content import Module
from valkey_workshop.server.base import ServerInfo

LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux rlimits")


def _check(tmp_path: Path, module3: Module, server: ServerInfo, text: str) -> StepResult:
    exercise = tmp_path / "02_cache_aside.py"
    exercise.write_text(text, encoding="utf-8")
    return run_step_checks(module3.step("cache-aside"), exercise, server.url)


#: Lines appended to the worker's result file (found through /proc/self/fd).
JUNK = {
    "5,000 digits": "'1' * 5000",  # int() refuses: a ValueError traceback once
    "nested 100,000 deep": "'[' * 100000 + ']' * 100000",  # RecursionError
    "not JSON": "'{not json'",
    "a list": "'[1, 2, 3]'",
    "binary": "'\\udcff\\x00\\x01'",
}


@LINUX_ONLY
@pytest.mark.parametrize("name", sorted(JUNK))
def test_a_junk_line_in_the_result_file_fails_the_step_with_a_message(
    name: str, tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    append = f"""
    import os
    for _fd in os.listdir("/proc/self/fd"):
        _target = os.path.realpath(f"/proc/self/fd/{{_fd}}")
        if _target.endswith("events.jsonl"):
            with open(_target, "a", errors="surrogateescape") as _out:
                _out.write({JUNK[name]} + "\\n")
    """
    result = _check(tmp_path, module3, server, with_update_body(module3, append))
    assert not result.passed
    assert "the checker did not write" in (result.problem or "")


@LINUX_ONLY
def test_the_forger_that_reads_the_secret_from_the_result_file_fails(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    """The attack run's forger: find the events file, take the run's secret from its first
    line, append a pass for every check. The secret is never in the file (events are signed),
    and a line that does not verify fails the step."""
    ids = _ids(module3)
    forger = f"""
    import json, os
    for _fd in os.listdir("/proc/self/fd"):
        _target = os.path.realpath(f"/proc/self/fd/{{_fd}}")
        if _target.endswith("events.jsonl"):
            _first = json.loads(open(_target).readline())
            _key = _first.get("key")
            _seq = _first.get("seq", 0)
            with open(_target, "a") as _out:
                for _id in {ids!r}:
                    _seq += 1
                    _out.write(json.dumps({{"event": "result", "id": _id, "name": _id,
                        "passed": True, "message": "", "duration_ms": 1.0, "calls": [],
                        "key": _key, "seq": _seq, "mac": _first.get("mac")}}) + "\\n")
                _out.write(json.dumps({{"event": "done", "key": _key, "seq": _seq + 1}}) + "\\n")
            assert _key is None, "the secret was in the file"
    os._exit(0)
    """
    result = _check(tmp_path, module3, server, with_update_body(module3, forger))
    assert not result.passed
    assert "the checker did not write" in (result.problem or "")


def _ids(module3: Module) -> list[str]:
    return [spec.id for spec in check_specs(module3.step("cache-aside").checks)]


@LINUX_ONLY
def test_learner_code_cannot_raise_its_memory_limit(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    # The hard limit was left unlimited: learner code raised the soft one and took 1.5 GB
    # under --memory-limit 256M.
    seen = tmp_path / "raised.txt"
    body = f"""
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        open({str(seen)!r}, "w").write("raised")
    except (ValueError, OSError) as error:
        open({str(seen)!r}, "w").write(f"refused: {{error}}")
    """
    result = _check(tmp_path, module3, server, with_update_body(module3, body))
    assert seen.read_text().startswith("refused"), seen.read_text()
    assert result.passed, result.problem  # refused, then fine


@LINUX_ONLY
def test_endless_output_is_capped_and_the_step_says_so(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    # 300 MB to the real stdout once grew the output file without bound.
    body = """
    import os
    _chunk = b"x" * (1 << 20)
    for _ in range(300):
        os.write(1, _chunk)
    """
    result = _check(tmp_path, module3, server, with_update_body(module3, body))
    assert not result.passed
    messages = " ".join(c.message for c in result.checks)
    assert "the rest was dropped" in messages, messages


def test_the_reference_solution_still_passes(
    tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    result = _check(tmp_path, module3, server, solution(module3))
    assert result.passed, result.problem


LIARS = {
    "__eq__ always True": (
        "class _Liar:\n    def __eq__(self, other):\n        return True\n"
        "    def get(self, *a):\n        return self\n    def __getitem__(self, k):\n"
        "        return self\n",
        "_Liar()",
    ),
    "dict subclass that lies": (
        "class _Liar(dict):\n    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n",
        "_Liar()",
    ),
}


@pytest.mark.parametrize("name", sorted(LIARS))
def test_a_return_value_that_lies_about_equality_fails(
    name: str, tmp_path: Path, module3: Module, server: ServerInfo
) -> None:
    cls, value = LIARS[name]
    # The reference solution does the caching; what it returns is replaced by the liar.
    code = (
        solution(module3)
        + "\n"
        + cls
        + "_real_get, _real_update = get_product_details, update_product\n"
        "def get_product_details(client, db, product_id):\n"
        "    _found = _real_get(client, db, product_id)\n"
        f"    return None if _found is None else {value}\n"
        "def update_product(client, db, product_id, changes):\n"
        "    _real_update(client, db, product_id, changes)\n"
        f"    return {value}\n"
    )
    result = _check(tmp_path, module3, server, code)
    assert not result.passed
    failed = [c for c in result.checks if not c.passed]
    assert failed and all(c.ran for c in failed), [c.message for c in failed]


def test_plain_data_turns_subclasses_of_built_ins_into_the_built_ins() -> None:
    from collections import OrderedDict, defaultdict  # noqa: PLC0415

    class Liar(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    data = plain_data(OrderedDict(a=[1, (2.5, Liar("x"))], b=defaultdict(int)))
    assert type(data) is dict and type(data["b"]) is dict
    assert type(data["a"][1][1]) is str and data["a"][1][1] != "y"
    with pytest.raises(NotPlainDataError):
        plain_data({"a": object()})
