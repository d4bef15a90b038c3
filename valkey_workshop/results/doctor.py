"""``doctor``'s result, and the progress of an image pull (``doctor --pull``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from valkey_workshop.results.envelope import Message, json_document


@dataclass(frozen=True)
class DoctorItem:
    """One pre-flight finding; ``required`` ones decide doctor's exit code."""

    name: str
    ok: bool
    detail: str
    required: bool = True


@dataclass(frozen=True)
class DoctorReport:
    items: tuple[DoctorItem, ...]
    auto_choice: str
    auto_reason: str

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items if item.required)

    @property
    def messages(self) -> tuple[Message, ...]:
        return ()

    @property
    def exit_code(self) -> int:
        """0 every required item is fine; 1 one is not."""
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        """The ``doctor --json`` document."""
        return json_document(
            "doctor",
            {
                "ok": self.ok,
                "items": [
                    {"name": i.name, "ok": i.ok, "detail": i.detail, "required": i.required}
                    for i in self.items
                ],
                "auto_choice": self.auto_choice,
                "auto_reason": self.auto_reason,
            },
        )


@dataclass(frozen=True)
class PullProgress:
    """One step of an image pull, summed over its layers."""

    image: str
    status: str
    done_bytes: int
    total_bytes: int
