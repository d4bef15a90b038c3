"""Check results shown to people and to CI: control characters never act, XML stays valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from valkey_workshop.checking.results import (
    CheckReport,
    CheckResult,
    StepResult,
    escape_controls,
    xml_safe,
)
from valkey_workshop.render import views

HOSTILE = "\x1b[31mred\x1b[0m \x1b]0;title\x07 back\x08space\r\x00nul \x9b2J \ud800"


def _step(*checks: CheckResult, output: str = "") -> StepResult:
    return StepResult(
        2, "cache-aside", "Cache-aside", Path("02_cache_aside.py"), checks, None, output
    )


def _text(step: StepResult) -> str:
    console = Console(width=100, record=True, force_terminal=False, no_color=True)
    with console.capture() as capture:
        console.print(views.check_report_view(CheckReport("module3", "embedded", "9", (step,))))
    return capture.get()


def test_escape_controls_keeps_text_and_lines() -> None:
    assert escape_controls("a\x1b[31mb\tc\nd\re") == "a\\x1b[31mb\tc\nd\\re"
    assert escape_controls("plain · ✓ µs") == "plain · ✓ µs"


def test_xml_safe_text_parses() -> None:
    text = xml_safe(HOSTILE)
    ET.fromstring(f"<a>{text.replace('&', '&amp;').replace('<', '&lt;')}</a>")
    assert "\\x1b[31mred" in text


def test_junit_with_control_characters_parses() -> None:
    failing = CheckResult("x", "name \x1b[1m", False, HOSTILE, 1.0)
    report = CheckReport("module3", "embedded", "9", (_step(failing, output=HOSTILE),))
    root = ET.fromstring(report.to_junit_xml())
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert "\\x1b[31mred" in (failure.get("message") or "")
    assert "\\x1b]0;title\\x07" in (root.findtext("testsuite/system-out") or "")


def test_rendered_messages_and_output_show_escapes_instead_of_running_them() -> None:
    failing = CheckResult("x", "A check", False, HOSTILE, 1.0)
    text = _text(_step(failing, output="printed " + HOSTILE))
    for control in ("\x1b", "\x07", "\x08", "\x00", "\x9b"):
        assert control not in text
    assert "\\x1b[31mred\\x1b[0m" in text
    assert "printed \\x1b[31mred" in text


def test_checks_that_did_not_run_are_listed_once_with_their_reason() -> None:
    ran = CheckResult("a", "First check", False, "it broke", 1.0)
    not_run = [
        CheckResult(
            i,
            f"Check {i}",
            False,
            "did not run: the step stopped at check “First check”",
            0.0,
            ran=False,
        )
        for i in ("b", "c")
    ]
    text = _text(_step(ran, *not_run))
    assert "✗ FAIL" in text
    assert "✗ First check" in text
    assert "✗ 2 checks did not run (the step stopped at check “First check”):" in text
    assert "· Check b" in text and "· Check c" in text
