"""``workshop cli``: parse, open the lab server as ``check`` does, run the prompt, render."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from valkey_workshop.cli.common import (
    BackendOption,
    ImageOption,
    NetworkOption,
    UrlOption,
    WorkdirOption,
    guarded,
    live_server,
)


def cli_command(
    backend: BackendOption = None,
    url: UrlOption = None,
    image: ImageOption = None,
    docker_network: NetworkOption = None,
    workdir: WorkdirOption = None,
    allow_writes: Annotated[
        bool,
        typer.Option(
            "--allow-writes",
            help="On a --url server: run commands that write others' keys or change settings",
        ),
    ] = False,
) -> None:
    """A prompt on the lab server: every reply with its latency. Reads a pipe too.

    \b
    Examples:
      workshop cli
      printf 'SET workshop:x 1\\nINCR workshop:x\\n' | workshop cli
    """
    from valkey_workshop.commands.cli_prompt import Prompt  # noqa: PLC0415 - on use (Tab, --help)
    from valkey_workshop.interactive.lab_prompt import (  # noqa: PLC0415
        HISTORY,
        address,
        typed_lines,
    )
    from valkey_workshop.render import out_console  # noqa: PLC0415
    from valkey_workshop.render.console import status  # noqa: PLC0415
    from valkey_workshop.render.prompt import reply_view  # noqa: PLC0415
    from valkey_workshop.session.workdir import resolve_workdir  # noqa: PLC0415

    root = guarded(lambda: resolve_workdir(workdir))
    console = out_console()
    failed = False
    with live_server(backend, url, image, docker_network) as (_choice, info):
        prompt = Prompt(info, allow_writes=allow_writes)
        try:
            if sys.stdin.isatty():
                status("Type Valkey commands; an empty line does nothing; Ctrl-D ends.")
                lines = typed_lines(f"{address(info.url)}> ", root / HISTORY)
            else:
                lines = iter(sys.stdin.readline, "")
            for reply in prompt.run_all(lines):
                failed = failed or reply.error
                console.print(reply_view(reply), soft_wrap=True)
        finally:
            prompt.close()
    raise typer.Exit(1 if failed else 0)
