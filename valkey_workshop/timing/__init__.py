"""The instrumented client: every Valkey call and every pipeline timed and logged as data."""

from valkey_workshop.timing.client import TimedPipeline, TimedValkey, connect
from valkey_workshop.timing.records import CallLog, CallRecord, LatencySummary, summarize

__all__ = [
    "CallLog",
    "CallRecord",
    "LatencySummary",
    "TimedPipeline",
    "TimedValkey",
    "connect",
    "summarize",
]
