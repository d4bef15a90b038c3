"""How ``workshop pack`` shows its progress and what it wrote."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from valkey_workshop.render.theme import COMMAND, MUTED, PASS
from valkey_workshop.results.pack import PackResult, PackStep


def pack_step_line(step: PackStep) -> Text:
    return Text(f"  … {step.text}", style=MUTED)


def pack_result_view(result: PackResult) -> RenderableType:
    wheels = result.folder / "wheels"
    size = sum(path.stat().st_size for path in result.wheels)
    lines = [
        Text.assemble(("Packed ", PASS), str(result.folder)),
        Text(f"  {len(result.wheels)} wheels ({size / 1e6:.1f} MB) for {result.summary}"),
        Text(f"  {result.image_note}"),
        Text(f"  instructions: {result.install_text}"),
        Text.assemble(
            "  learners: ",
            (
                f"pip install --no-index --find-links {wheels} valkey-workshop",
                COMMAND,
            ),
        ),
    ]
    return Group(*lines)
