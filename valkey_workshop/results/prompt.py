"""``workshop cli``'s result: one typed command and its reply (light: rendering imports it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """One typed command and what came of it."""

    command: str
    lines: tuple[str, ...]
    latency_us: float | None  # None: it was not sent
    error: bool = False
    note: str | None = None  # a refusal's reason, or what an allowed write touches
