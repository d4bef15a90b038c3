"""The workshop's slow product database: the primary store a cache sits in front of.

Every call sleeps for a configurable latency (1.5 s in demos, a few ms in checks) and is
counted and time-stamped, so checks know exactly how often, and when, learner code went to
the database.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: The catalogue has products P1 .. P999; anything else is unknown.
CATALOGUE_SIZE = 999


def catalogue_record(product_id: str) -> dict[str, object] | None:
    """The record the database holds for ``product_id`` before any update, or None."""
    if not (product_id.startswith("P") and product_id[1:].isdigit()):
        return None
    number = int(product_id[1:])
    if not 1 <= number <= CATALOGUE_SIZE:
        return None
    return {"id": product_id, "name": f"Luxury Widget {product_id}", "price": 100.0 * number}


@dataclass(frozen=True)
class DatabaseCall:
    """One database call, on the same clock as the timed client (``perf_counter_ns``)."""

    operation: str
    product_id: str
    started_ns: int
    ended_ns: int


class ProductDatabase:
    """A product catalogue that answers slowly, like a real primary store under load.

    Args:
        latency_seconds: how long each call takes.
        before_update: called with the product id and the changes at the start of every
            ``update_product``, before the change is applied (not while it is already running);
            checks use it to play a concurrent reader, or to crash the process mid-flush.
    """

    def __init__(
        self,
        latency_seconds: float = 1.5,
        before_update: Callable[[str, dict[str, object]], None] | None = None,
        extra: Mapping[str, Mapping[str, object]] | None = None,
        faults: Mapping[int, BaseException] | None = None,
    ) -> None:
        self.latency_seconds = latency_seconds
        self.before_update = before_update
        self._extra = {pid: dict(record) for pid, record in (extra or {}).items()}
        #: Injected faults: the call with this number (1 = the first call, reads and writes
        #: counted together) raises this instead of answering, and leaves no change behind.
        self.faults = dict(faults or {})
        self._changes: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()
        self._in_hook = False
        self.calls: list[DatabaseCall] = []

    @property
    def get_calls(self) -> int:
        """How many times ``get_product`` was called."""
        return sum(1 for call in self.calls if call.operation == "get_product")

    @property
    def update_calls(self) -> int:
        """How many times ``update_product`` was called."""
        return sum(1 for call in self.calls if call.operation == "update_product")

    def reset_counts(self) -> None:
        self.calls.clear()

    def get_product(self, product_id: str) -> dict[str, object] | None:
        """The product's record, or None when there is no such product (slow)."""
        started = time.perf_counter_ns()
        self._fault("get_product", product_id, started)
        self._wait()
        record = self._current(product_id)
        self._log("get_product", product_id, started)
        return record

    def update_product(self, product_id: str, changes: dict[str, object]) -> dict[str, object]:
        """Apply ``changes`` to a product and return the updated record (slow).

        Raises:
            KeyError: there is no such product.
        """
        started = time.perf_counter_ns()
        if self._current(product_id) is None:
            self._log("update_product", product_id, started)
            raise KeyError(product_id)
        if self.before_update is not None and not self._in_hook:
            self._in_hook = True
            try:
                self.before_update(product_id, changes)
            finally:
                self._in_hook = False
        self._fault("update_product", product_id, started)
        self._wait()
        with self._lock:
            merged = {**self._changes.get(product_id, {}), **copy.deepcopy(changes)}
            merged.pop("id", None)  # the id is the key, not a field one can change
            self._changes[product_id] = merged
        record = self._current(product_id)
        assert record is not None
        self._log("update_product", product_id, started)
        return record

    def _wait(self) -> None:
        """The database's latency. None at all for a latency of 0: ``time.sleep(0)`` still
        gives the processor away (step 08's checks write thousands of times)."""
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)

    def _fault(self, operation: str, product_id: str, started_ns: int) -> None:
        """Raise the fault injected at this call's number, if any (the call is logged)."""
        fault = self.faults.pop(len(self.calls) + 1, None)
        if fault is not None:
            self._log(operation, product_id, started_ns)
            raise fault

    def _current(self, product_id: str) -> dict[str, object] | None:
        base = catalogue_record(product_id)
        if base is None and product_id in self._extra:
            base = copy.deepcopy(self._extra[product_id])
        if base is None:
            return None
        with self._lock:
            base.update(copy.deepcopy(self._changes.get(product_id, {})))
        return base

    def _log(self, operation: str, product_id: str, started_ns: int) -> None:
        self.calls.append(DatabaseCall(operation, product_id, started_ns, time.perf_counter_ns()))
