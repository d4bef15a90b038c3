"""Check results as data: rendered for people, as JSON (cli.md) and as JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valkey_workshop.timing.records import CallRecord

# C0 and C1 control characters except tab and newline: a terminal acts on them (ESC starts a
# colour, a cursor move, a title change), and XML 1.0 forbids most of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters XML 1.0 cannot carry at all (lone surrogates, U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def escape_controls(text: str) -> str:
    """``text`` with control characters shown, not acted on: ``\x1b[31m`` stays readable
    text. Tab and newline are kept; a lone carriage return becomes ``\r``."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def xml_safe(text: str) -> str:
    """``text`` as XML 1.0 can carry it: control characters escaped as in
    :func:`escape_controls`, characters XML forbids replaced by ``\ufffd``."""
    return _NOT_XML.sub("\ufffd", escape_controls(text))


@dataclass(frozen=True)
class CallView:
    """One Valkey round trip the learner's code made during a check, ready to show."""

    command: str
    args: str
    reply: str
    latency_us: float
    error: bool = False

    @classmethod
    def of(cls, record: CallRecord) -> CallView:
        return cls(
            command=record.command,
            args=record.args_summary,
            reply=record.reply_summary,
            latency_us=round(record.latency_us, 1),
            error=record.error is not None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "args": self.args,
            "reply": self.reply,
            "latency_us": self.latency_us,
            "error": self.error,
        }


@dataclass(frozen=True)
class CheckResult:
    """One check of a step: passed or not, and why."""

    id: str
    name: str
    passed: bool
    message: str
    duration_ms: float
    hint: int | None = None
    calls: tuple[CallView, ...] = ()
    lesson: str | None = None
    call_count: int = 0  # every round trip the check saw; ``calls`` lists the first ones
    ran: bool = True  # False: the check never started (the step stopped before it)

    @property
    def total_calls(self) -> int:
        return max(self.call_count, len(self.calls))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "passed": self.passed,
            "message": self.message,
            "duration_ms": round(self.duration_ms, 3),
            "hint": self.hint,
            "lesson": self.lesson,
            "calls": [call.to_json() for call in self.calls],
            "call_count": self.total_calls,
            "ran": self.ran,
        }


@dataclass(frozen=True)
class StepResult:
    """All checks of one step, plus anything that stopped them (a timeout, a crash)."""

    number: int
    slug: str
    title: str
    exercise: Path
    checks: tuple[CheckResult, ...]
    problem: str | None = None
    output: str = ""
    duration_ms: float = 0.0
    #: Why the checks did not run at all (refused on this server, the server stopped): not a
    #: verdict on the learner's code, and not recorded as an attempt.
    not_run: str | None = None
    #: The seed the checks drew their generated scenarios from (``--seed`` replays it).
    seed: int | None = None

    @property
    def passed(self) -> bool:
        return (
            self.not_run is None
            and self.problem is None
            and bool(self.checks)
            and all(c.passed for c in self.checks)
        )

    @property
    def failed(self) -> bool:
        """The checks ran and did not all pass (a verdict on the code, unlike ``not_run``)."""
        return self.not_run is None and not self.passed

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.passed)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.number,
            "slug": self.slug,
            "title": self.title,
            "exercise": str(self.exercise),
            "passed": self.passed,
            "problem": self.problem,
            "not_run": self.not_run,
            "duration_ms": round(self.duration_ms, 3),
            "seed": self.seed,
            "checks": [check.to_json() for check in self.checks],
        }


@dataclass(frozen=True)
class CheckReport:
    """The result of ``workshop check``: every step checked, on which server."""

    module: str
    backend: str
    server_version: str
    steps: tuple[StepResult, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.passed for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "backend": self.backend,
            "server_version": self.server_version,
            "passed": self.passed,
            "steps": [step.to_json() for step in self.steps],
        }

    def to_junit_xml(self) -> str:
        """One ``testsuite`` per step, one ``testcase`` per check, named by the check's stable id
        (its sentence is the case's ``system-out``). A check that failed or was stopped is a
        ``failure``; a check that never started, and a step that did not run at all (refused
        on this server), is ``skipped`` with the reason and nothing else. Both roots carry
        totals, so CI systems count the run right. Text is made XML-safe: learner output may
        hold anything."""
        suites = ET.Element("testsuites", name=f"workshop {self.module}")
        totals = _Totals()
        for step in self.steps:
            suite = ET.SubElement(
                suites, "testsuite", name=f"{self.module}.{step.number:02d}_{step.slug}"
            )
            counts = _Totals(time_ms=step.duration_ms)
            classname = f"{self.module}.{step.slug}"
            if step.not_run is not None:
                element = ET.SubElement(
                    suite, "testcase", classname=classname, name="step", time="0.000"
                )
                ET.SubElement(element, "skipped", message=xml_safe(step.not_run))
                counts.add(skipped=True)
            cases = list(step.checks)
            if step.not_run is None and not step.passed and not step.failures:
                # A reason is never lost: the step failed, yet no check says so.
                reason = step.problem or "the step failed"
                cases.append(CheckResult("step", "The step ran", False, reason, step.duration_ms))
            for case in cases:
                element = ET.SubElement(
                    suite,
                    "testcase",
                    classname=classname,
                    name=xml_safe(case.id),
                    time=f"{case.duration_ms / 1000:.3f}",
                )
                message = xml_safe(case.message)
                if not case.ran:
                    ET.SubElement(element, "skipped", message=message)
                elif not case.passed:
                    ET.SubElement(element, "failure", message=message).text = message
                ET.SubElement(element, "system-out").text = xml_safe(case.name)
                counts.add(skipped=not case.ran, failed=case.ran and not case.passed)
            counts.write(suite)
            if step.output:
                ET.SubElement(suite, "system-out").text = xml_safe(step.output)
            totals.merge(counts)
        totals.write(suites)
        ET.indent(suites)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode")


@dataclass
class _Totals:
    """The counts a JUnit ``testsuite`` or ``testsuites`` element carries."""

    tests: int = 0
    failures: int = 0
    skipped: int = 0
    time_ms: float = 0.0

    def add(self, *, skipped: bool = False, failed: bool = False) -> None:
        self.tests += 1
        self.skipped += skipped
        self.failures += failed

    def merge(self, other: _Totals) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.skipped += other.skipped
        self.time_ms += other.time_ms

    def write(self, element: ET.Element) -> None:
        element.set("tests", str(self.tests))
        element.set("failures", str(self.failures))
        element.set("errors", "0")  # a check either passes, fails or does not run
        element.set("skipped", str(self.skipped))
        element.set("time", f"{self.time_ms / 1000:.3f}")
