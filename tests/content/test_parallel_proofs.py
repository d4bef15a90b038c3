"""Parallel proofs give the same verdicts as serial ones, in the same order, and never let two
proofs disturb each other (checking/proofs.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from valkey_workshop.checking.proofs import Proof, run_proofs, run_tasks
from valkey_workshop.cli.app import app
from valkey_workshop.commands.verify import verify_module
from valkey_workshop.content import Module
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.embedded import EmbeddedBackend


def _verdicts(module3: Module, server: ServerInfo, **options: object) -> list[tuple[str, ...]]:
    steps = (module3.step("eviction"),)
    report = verify_module(module3, steps, server, **options)  # type: ignore[arg-type] # test kwargs
    return [(f.step.slug, f.subject, str(f.ok)) for f in report.findings]


def test_verify_j1_gives_the_same_verdicts_as_parallel(module3: Module, server: ServerInfo) -> None:
    """Step 04 changes server-wide state (changes_server), the hardest case. Serial on one server
    and parallel on private servers (what `workshop verify` does on the embedded backend)
    agree. The shared-server lanes are tested below with proofs that record their overlap."""
    serial = _verdicts(module3, server, jobs=1)
    parallel = _verdicts(module3, server, jobs=3, spare_server=EmbeddedBackend)
    assert serial == parallel
    assert all(ok == "True" for *_, ok in serial), [v for v in serial if v[2] != "True"]
    assert len(serial) >= 15


def test_results_come_back_in_input_order(module3: Module, server: ServerInfo) -> None:
    step = module3.step("ttl-persist")
    files = [(step, step.solution), (step, step.starter), (step, step.solution)]
    seen: list[int] = []
    results = run_proofs(files, server.url, jobs=2, on_result=lambda index, _: seen.append(index))
    assert [r.passed for r in results] == [True, False, True]
    assert sorted(seen) == [0, 1, 2]


def test_a_shared_server_never_overlaps_one_step_and_runs_server_changers_alone(
    module3: Module, server: ServerInfo
) -> None:
    """On a server we cannot duplicate (--url, docker), lanes are empty databases; proofs of one
    step never overlap, and a changes_server proof runs with nothing beside it."""
    lock = threading.Lock()
    running: list[tuple[str, bool]] = []
    violations: list[str] = []
    lanes: set[str] = set()

    def task(slug: str, changes: bool) -> Callable[[str], str]:
        def run(url: str) -> str:
            with lock:
                lanes.add(url)
                if any(other == slug for other, _ in running):
                    violations.append(f"two proofs of {slug} at once")
                if changes and running:
                    violations.append(f"{slug} changed the server beside {running}")
                if any(other_changes for _, other_changes in running):
                    violations.append(f"{slug} ran beside a server-changing proof")
                running.append((slug, changes))
            time.sleep(0.03)
            with lock:
                running.remove((slug, changes))
            return slug

        return run

    steps = [module3.step(s) for s in ("bottleneck", "cache-aside", "eviction", "lazyfree")]
    proofs: list[Proof[str]] = [
        Proof(step, task(step.slug, step.changes_server)) for step in steps for _ in range(4)
    ]
    results = run_tasks(proofs, server.url, jobs=3)
    assert results == [proof.step.slug for proof in proofs]
    assert not violations, violations
    # Lanes are the server's own database and empty ones. At most two steps run beside each
    # other here, but any of the three lane threads may take the next proof: under load a
    # third lane got work (CI), so the count is 2 or 3, never more than -j.
    assert 2 <= len(lanes) <= 3, lanes
    assert any(url.endswith("/0") for url in lanes)


def test_private_lanes_start_heavier_proofs_first_and_steps_take_turns(
    module3: Module, server: ServerInfo
) -> None:
    """Longest first keeps a lane from finishing alone on a slow proof; within a weight the
    steps alternate, so two lanes rarely run two waiting proofs of one step side by side."""
    started: list[str] = []

    def task(name: str) -> Callable[[str], str]:
        def run(_url: str) -> str:
            started.append(name)
            return name

        return run

    slow, fast = module3.step("failure-modes"), module3.step("bottleneck")
    proofs: list[Proof[str]] = [
        Proof(slow, task("09 wrong 1")),
        Proof(slow, task("09 wrong 2")),
        Proof(slow, task("09 whole 1"), 10.0),
        Proof(slow, task("09 whole 2"), 10.0),
        Proof(fast, task("01 wrong 1")),
        Proof(fast, task("01 whole 1"), 10.0),
    ]
    # One lane: the proofs run one after another in the scheduler's order.
    results = run_tasks(proofs, server.url, jobs=1, spare_server=EmbeddedBackend)
    # The results come in input order, whatever order the proofs ran in.
    in_input_order = ["09 wrong 1", "09 wrong 2", "09 whole 1", "09 whole 2", "01 wrong 1"]
    assert results == [*in_input_order, "01 whole 1"]
    assert started == [
        "09 whole 1",
        "01 whole 1",
        "09 whole 2",
        "09 wrong 1",
        "01 wrong 1",
        "09 wrong 2",
    ]


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["verify", "module3", "bottleneck", "-j", "0"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_jobs_above_the_cap_run_at_the_cap_and_say_so(server: ServerInfo) -> None:
    # `-j 1000` was refused (exit 2); the cap is there so that it never starts a server per
    # proof, so a number above it runs at the cap, with one line that says so.
    result = CliRunner().invoke(
        app, ["check", "module3", "bottleneck", "--url", server.url, "-j", "1000"]
    )
    assert result.exit_code == 1, result.output  # the untouched starter fails its checks
    assert "-j 1000 is more than 16; using 16\n" in result.stderr
    assert "FAIL" in result.stdout
    assert "Traceback" not in result.output
