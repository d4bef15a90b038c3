"""``workshop pack``'s progress and result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from valkey_workshop.results.envelope import Message


@dataclass(frozen=True)
class PackStep:
    """Progress: one thing ``pack`` is doing or did."""

    text: str


@dataclass(frozen=True)
class PackResult:
    """What ``pack`` wrote."""

    folder: Path
    wheels: tuple[Path, ...]
    image_tar: Path | None
    image_note: str
    install_text: Path
    targets: tuple[str, ...]
    summary: str  # the targets in one short line

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()

    @property
    def exit_code(self) -> int:
        return 0
