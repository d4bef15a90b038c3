"""``verify --mutants`` output at 80 and 120 columns (golden files, see test_rendering.py)."""

from __future__ import annotations

from tests.unit.test_rendering import assert_golden
from valkey_workshop.content import Module
from valkey_workshop.mutation.engine import DeclarationProblem, MutantResult, StepMutants
from valkey_workshop.mutation.operators import Mutant
from valkey_workshop.render.console import render_text
from valkey_workshop.render.mutants import mutants_view
from valkey_workshop.results.mutants import MutantsReport
from valkey_workshop.server.base import ServerInfo


def report(module3: Module) -> MutantsReport:
    step = module3.step("ttl-persist")

    def mutant(mutant_id: str, line: int, description: str) -> Mutant:
        operator, function, _ = mutant_id.split(":")
        return Mutant(mutant_id, operator, function, line, description, "")

    results = (
        MutantResult(
            mutant("drop-keyword:update_keep_ttl:18f302", 21, "drop keepttl=True"),
            "killed",
            "update-keeps-ttl",
            "update_keep_ttl lost the TTL",
            0.15,
        ),
        MutantResult(
            mutant(
                "read-then-write:update_keep_ttl:92e4eb",
                21,
                "keepttl=True → ex=max(ttl(key), 1) (TTL read first)",
            ),
            "survived",
            None,
            "every check passes",
            0.13,
        ),
        MutantResult(
            mutant("time-unit:ttl_status:215587", 26, "ttl(...) → pttl(...)"),
            "equivalent",
            None,
            "PTTL answers -2 and -1 as TTL does",
            0.2,
        ),
    )
    steps = (
        StepMutants(
            step,
            results,
            generated=3,
            discarded=1,
            problems=(
                DeclarationProblem(
                    "swap-statements:ttl_status:000000",
                    "stale: no mutant has this id any more (remove or update the declaration)",
                ),
            ),
            seconds=1.5,
            time_limit_seconds=5.0,
        ),
    )
    server = ServerInfo("embedded", "valkey://127.0.0.1:1/0", "9.1.2", "embedded Valkey 9.1.2")
    return MutantsReport("module3", server, steps, seconds=1.5)


def test_mutants_report_at_80_columns(module3: Module) -> None:
    text = render_text(mutants_view(report(module3), 80), 80)
    assert_golden("mutants_report_80.txt", text)
    assert "read-then-write:update_keep_ttl:92e4eb" in text  # ids are never broken


def test_operator_column_on_wide_terminals(module3: Module) -> None:
    text = render_text(mutants_view(report(module3), 120), 120)
    assert " operator " in text
    assert "read-then-write  " in text
