"""``workshop verify MODULE [STEP] --mutants [--json]``: parse, call the core, render."""

from __future__ import annotations

import json
import sys
from functools import partial

from valkey_workshop import naming
from valkey_workshop.checking.proofs import run_proofs
from valkey_workshop.cli.common import fail, guarded, live_server
from valkey_workshop.commands.mutants import verify_mutants
from valkey_workshop.commands.verify import spare_server_for
from valkey_workshop.content.loader import load_module
from valkey_workshop.render import out_console
from valkey_workshop.render.console import status
from valkey_workshop.render.mutants import mutants_view, step_line
from valkey_workshop.server.guard import guard_for


def run_verify_mutants(
    module: str | None,
    step: str | None,
    backend: str | None,
    url: str | None,
    image: str | None,
    docker_network: str | None,
    *,
    as_json: bool,
    jobs: int | None = None,
) -> int:
    """Run the mutation proofs of one module (or one step); the exit code (0: none survived)."""
    if module is None:
        raise fail(
            f"--mutants needs a module: {naming.program()} verify "
            f"{naming.example_module()} --mutants"
        )
    loaded = guarded(partial(load_module, module))
    steps = guarded(partial(loaded.select, step))
    with live_server(backend, url, image, docker_network) as (_, info):
        # Every mutant is a wrong answer that may do anything to its database: like verify,
        # mutation proofs run only on a server holding nothing but the workshop's keys.
        refusal = next((r for r in guard_for(info).refuse_steps(steps) if r is not None), None)
        if refusal is not None:
            raise fail(refusal.message)
        report = guarded(
            partial(
                verify_mutants,
                loaded,
                steps,
                info,
                jobs=jobs,
                on_step=lambda result: status(step_line(result)),
                proofs=partial(run_proofs, spare_server=spare_server_for(info)),
            )
        )
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        console = out_console()
        console.print(mutants_view(report, console.width))
    return 0 if report.ok else 1
