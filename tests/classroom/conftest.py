"""Classroom tests: a background sender a test starts (through a check whose results wait)
ends within a minute even when its class server never comes back."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def short_lived_senders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_CLASS_SENDER_SECONDS", "60")
