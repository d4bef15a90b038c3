"""JUnit XML that CI systems count right: valid against the schema CI readers use, and counted
by junitparser as the run went (a step not run is skipped, never a failure)."""

from __future__ import annotations

from pathlib import Path

import xmlschema
from junitparser import Failure, JUnitXml, Skipped

from valkey_workshop.checking.results import CheckReport, CheckResult, StepResult

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "data" / "junit.xsd")
REFUSED = "Step 04 eviction changes server-wide settings; this server holds 1,022 other keys."
STOPPED = "did not run: the step stopped at check “An update is read fresh”"


def _step(
    number: int,
    slug: str,
    *checks: CheckResult,
    not_run: str | None = None,
    problem: str | None = None,
    duration_ms: float = 0.0,
) -> StepResult:
    exercise = Path(f"{number:02d}_{slug}.py")
    return StepResult(
        number, slug, slug, exercise, checks, problem, duration_ms=duration_ms, not_run=not_run
    )


def _report() -> CheckReport:
    passed = CheckResult("miss-then-hit", "A miss reads the database once", True, "", 12.5)
    timed_out = CheckResult(
        "update-then-fresh-read",
        "An update is read fresh",
        False,
        "did not finish within 2 s",
        2000.0,
    )
    never_started = CheckResult("ttl-set", "Entries expire", False, STOPPED, 0.0, ran=False)
    return CheckReport(
        "module3",
        "url",
        "9.1.0",
        (
            _step(1, "warmup", passed, duration_ms=20.0),
            _step(2, "cache-aside", passed, timed_out, never_started, duration_ms=2100.0),
            _step(4, "eviction", not_run=REFUSED, duration_ms=3.0),
        ),
    )


def test_the_report_is_valid_junit() -> None:
    SCHEMA.validate(_report().to_junit_xml())


def test_junitparser_counts_each_outcome_once() -> None:
    xml = JUnitXml.fromstring(_report().to_junit_xml())
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (5, 1, 0, 2)
    assert xml.time == 2.123
    suites = {suite.name: suite for suite in xml}
    refused = suites["module3.04_eviction"]
    assert (refused.tests, refused.failures, refused.skipped) == (1, 0, 1)
    (case,) = list(refused)
    assert [type(result) for result in case.result] == [Skipped]  # and nothing else
    assert case.result[0].message == REFUSED

    step2 = {case.name: case for case in suites["module3.02_cache-aside"]}
    assert list(step2) == ["miss-then-hit", "update-then-fresh-read", "ttl-set"]  # the ids
    assert step2["miss-then-hit"].is_passed
    assert [type(r) for r in step2["update-then-fresh-read"].result] == [Failure]
    assert step2["update-then-fresh-read"].result[0].message == "did not finish within 2 s"
    assert [type(r) for r in step2["ttl-set"].result] == [Skipped]
    assert step2["ttl-set"].result[0].message == STOPPED
    # The sentence a person reads stays with the case.
    assert step2["update-then-fresh-read"].system_out == "An update is read fresh"


def test_a_run_in_which_nothing_ran_counts_no_failure() -> None:
    steps = tuple(_step(n, f"step{n}", not_run=REFUSED) for n in range(1, 10))
    xml = JUnitXml.fromstring(CheckReport("module3", "url", "9.1.0", steps).to_junit_xml())
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (9, 0, 0, 9)


def test_a_failed_step_without_a_failing_check_still_fails() -> None:
    step = _step(3, "crash", problem="the checking process was killed", duration_ms=5.0)
    xml = CheckReport("module3", "embedded", "9.1.0", (step,)).to_junit_xml()
    SCHEMA.validate(xml)
    parsed = JUnitXml.fromstring(xml)
    assert (parsed.tests, parsed.failures, parsed.skipped) == (1, 1, 0)
    (case,) = list(next(iter(parsed)))
    assert case.result[0].message == "the checking process was killed"


def test_an_empty_report_is_valid() -> None:
    xml = CheckReport("module3", "embedded", "9.1.0", ()).to_junit_xml()
    SCHEMA.validate(xml)
    assert JUnitXml.fromstring(xml).tests == 0
