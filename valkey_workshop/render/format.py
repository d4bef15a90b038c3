"""Plain-text formatting shared by the views."""

from __future__ import annotations


def latency(microseconds: float) -> str:
    """``42.1 µs``, ``1.53 ms``, ``1.502 s``: the unit that keeps the number readable."""
    if microseconds < 1_000:
        return f"{microseconds:.1f} µs"
    if microseconds < 1_000_000:
        return f"{microseconds / 1_000:.2f} ms"
    return f"{microseconds / 1_000_000:.3f} s"


def seconds(value: float) -> str:
    return latency(value * 1_000_000)
