"""A proof that needs what a server lacks is "not applicable" there: a finding with the
reason, never a failure or a crash."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import valkey

from valkey_workshop.commands.check import check_steps
from valkey_workshop.commands.verify import verify_step
from valkey_workshop.content import Module
from valkey_workshop.content.lesson import live_lesson
from valkey_workshop.content.requirements import not_applicable_reason, server_label, unmet
from valkey_workshop.render import views
from valkey_workshop.render.console import render_text
from valkey_workshop.results.verify import VerifyReport
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.session.workdir import Workdir


def test_the_server_says_what_it_supports(server: ServerInfo) -> None:
    client = valkey.Valkey.from_url(server.url, decode_responses=True)
    raw = valkey.Valkey.from_url(server.url)  # bytes replies must read the same
    try:
        for reader in (client, raw):
            assert server_label(reader) == f"Valkey {server.version}"
            # The embedded server is Valkey 9.1: DELIFEQ (9.0) and SET IFEQ (8.1) are there.
            assert unmet(reader, ["DELIFEQ", "SET IFEQ", "SET NX"]) == ()
            assert unmet(reader, ["NOSUCHCOMMAND", "SET NOSUCHOPTION", "DELIFEQ"]) == (
                "NOSUCHCOMMAND",
                "SET NOSUCHOPTION",
            )
    finally:
        client.close()
        raw.close()
    assert not_applicable_reason("Redis 7.0.15", ["DELIFEQ", "SET IFEQ"]) == (
        "needs DELIFEQ and SET IFEQ, which Redis 7.0.15 does not have"
    )


def test_a_step_the_server_cannot_run_is_one_not_applicable_finding(
    module3: Module, server: ServerInfo
) -> None:
    step = dataclasses.replace(module3.step("cache-aside"), requires=("NOSUCHCOMMAND",))
    findings = verify_step(step, server)
    assert len(findings) == 1
    (finding,) = findings
    assert (finding.subject, finding.ok, finding.applicable) == ("not applicable", True, False)
    assert finding.detail == (
        f"not applicable: needs NOSUCHCOMMAND, which Valkey {server.version} does not have"
    )
    report = VerifyReport("module3", server, tuple(findings), 0.5)
    assert report.ok
    text = render_text(views.verify_view(report), 120)
    assert "n/a" in text
    assert "0 of 0 proofs hold (1 not applicable on this server)" in text


def test_an_answer_the_server_cannot_run_is_skipped_and_the_rest_proved(
    module3: Module, server: ServerInfo
) -> None:
    step = module3.step("failure-modes")
    accepted = tuple(
        dataclasses.replace(answer, requires=("SET NOSUCHOPTION",))
        if answer.file.name == "set_ifeq.py"
        else answer
        for answer in step.accepted_answers
    )
    findings = verify_step(
        dataclasses.replace(step, accepted_answers=accepted, wrong_answers=()), server
    )
    skipped = [f for f in findings if not f.applicable]
    assert [f.subject for f in skipped] == [
        "accepts: cache_if_newer with GET, then SET ... IFEQ (Valkey 8.1+)"
    ]
    assert skipped[0].ok
    assert "needs SET NOSUCHOPTION" in skipped[0].detail
    proved = [f for f in findings if f.applicable]
    assert all(f.ok for f in proved), [f.detail for f in proved if not f.ok]
    # The DELIFEQ answer runs here: the embedded server has DELIFEQ.
    assert any("DELIFEQ" in f.subject for f in proved)


def test_lessons_name_the_server_and_what_it_supports(module3: Module, server: ServerInfo) -> None:
    client = valkey.Valkey.from_url(server.url, decode_responses=True)
    try:
        text = live_lesson(module3.step("failure-modes").lesson, client)
    finally:
        client.close()
    assert f"The server here is `Valkey {server.version}`." in text
    assert "Valkey 9.0. This server has it:\n`yes`" in text or "has it: `yes`" in text
    assert "{{" not in text


def test_check_of_a_step_the_server_cannot_run_says_so_and_records_nothing(
    module3: Module, server: ServerInfo, tmp_path: Path
) -> None:
    step = dataclasses.replace(module3.step("cache-aside"), requires=("NOSUCHCOMMAND",))
    workdir = Workdir(tmp_path / "labs")
    outcome = check_steps(module3, (step,), workdir, server)
    (result,) = outcome.report.steps
    # Not run, which is not a failure of the learner's code (exit 2, like a refused step).
    assert not result.passed and not result.failed and result.checks == ()
    assert result.not_run == (
        f"Step 02 cache-aside is not applicable on this server: needs NOSUCHCOMMAND, which "
        f"Valkey {server.version} does not have. Check it on the embedded server instead "
        "(--backend embedded)."
    )
    assert workdir.progress.load().progress.peek("module3", "cache-aside").attempts == 0
