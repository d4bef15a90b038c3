"""``workshop verify MODULE [STEP] --mutants [--json]``: parse, call the use case, render."""

from __future__ import annotations

from functools import partial
from typing import NoReturn

from valkey_workshop import naming
from valkey_workshop.checking.proofs import run_proofs
from valkey_workshop.cli.common import fail, finish, live_server, write_json
from valkey_workshop.commands.mutants import verify_mutants
from valkey_workshop.commands.verify import spare_server_for
from valkey_workshop.content.loader import load_module
from valkey_workshop.render import out_console
from valkey_workshop.render.console import status
from valkey_workshop.render.mutants import mutants_view, step_line


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
) -> NoReturn:
    """Run the mutation proofs of one module (or one step) and exit (0: none survived)."""
    if module is None:
        raise fail(
            f"--mutants needs a module: {naming.program()} verify "
            f"{naming.example_module()} --mutants"
        )
    loaded = load_module(module)
    steps = loaded.select(step)
    with live_server(backend, url, image, docker_network) as (_, info):
        report = verify_mutants(
            loaded,
            steps,
            info,
            jobs=jobs,
            on_step=lambda result: status(step_line(result)),
            proofs=partial(run_proofs, spare_server=spare_server_for(info)),
        )
    if as_json:
        finish(report, lambda: write_json(report.to_json()))
    console = out_console()
    finish(report, lambda: console.print(mutants_view(report, console.width)))
