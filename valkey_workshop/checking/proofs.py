"""Run many independent proofs (a step's checks against one file, or any task bound to a step)
at once, without letting them disturb each other.

Isolation rules, correctness first:

- **Private lanes** (``spare_server`` given, e.g. the embedded backend, which starts in about
  0.1 s): each lane beyond the first gets a server of its own, started here and stopped at the
  end. Nothing is shared between lanes, so any proof may run in any lane, including proofs of
  steps that change server-wide state (``Step.changes_server``: CONFIG SET, memory limits,
  flushes) and several proofs of the same step.
- **Shared server** (no ``spare_server``: a ``--url`` or Docker server): lanes are database
  numbers on that one server. The checks use fixed key names (a module's declared keys), and
  steps share some (02, 06 and 08), so each lane gets a database of its own, and only
  databases that hold no keys are used; two proofs of the same step never run at the same
  time. A proof of a ``changes_server`` step runs alone: nothing else runs while it does,
  because its CONFIG changes (``maxmemory``, lazyfree settings) and its server-wide
  measurements (``INFO commandstats``) reach every database. Those proofs come last.
  Steps on a shared server must not ``FLUSHALL`` unless they are marked ``changes_server``.

Results come back in input order, whatever order the proofs finish in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import valkey

from valkey_workshop.checking.protocol import ALL_CHECKS, CheckSelection
from valkey_workshop.checking.results import StepResult
from valkey_workshop.checking.runner import run_step_checks
from valkey_workshop.content.models import Step
from valkey_workshop.server.base import ServerInfo

T = TypeVar("T")

#: Starts one more private server for a lane (``EmbeddedBackend()``, say).
SpareServer = Callable[[], AbstractContextManager[ServerInfo]]


@dataclass(frozen=True)
class Proof(Generic[T]):
    """One unit of work: ``run(url)`` against the lane's server, for ``step``.

    ``weight`` is a guess at its cost beside the others' (a run of a whole step's checks
    against one of a single check, say): on private lanes the heavier start first."""

    step: Step
    run: Callable[[str], T]
    weight: float = 1.0


#: Proofs at once, at most: each further lane starts a server of its own (``verify -j 1000``
#: would have started about 188), and past a few per core they only wait for each other.
MAX_JOBS = 16


def default_jobs() -> int:
    """How many proofs run at once by default: the CPU count (at most :data:`MAX_JOBS`)."""
    return max(1, min(os.cpu_count() or 1, MAX_JOBS))


def run_proofs(
    step_files: Sequence[tuple[Step, Path]],
    url: str,
    *,
    jobs: int | None = None,
    on_result: Callable[[int, StepResult], None] | None = None,
    time_limit_seconds: float | None = None,
    spare_server: SpareServer | None = None,
    selection: CheckSelection = ALL_CHECKS,
) -> list[StepResult]:
    """Check each file against its step's checks, up to ``jobs`` at once.

    Args:
        step_files: (step, exercise file) pairs; the same step may appear many times.
        url: the server every proof may use (the first lane's).
        jobs: proofs at once (default: the CPU count); 1 runs them one after another.
        on_result: called with (input index, result) as each proof finishes, one call at a
            time (never from two threads at once).
        time_limit_seconds: per proof; default: the step's own.
        spare_server: starts a private server for each further lane; without it, lanes
            share ``url``'s server through separate databases (see the module docstring).
        selection: which checks each proof runs, in which order, and whether it stops at
            the first failure (default: every check).

    Returns:
        One result per input pair, in input order.
    """
    proofs = [
        Proof(step, _checker(step, path, time_limit_seconds, selection))
        for step, path in step_files
    ]
    return run_tasks(proofs, url, jobs=jobs, on_result=on_result, spare_server=spare_server)


def _checker(
    step: Step, path: Path, limit: float | None, selection: CheckSelection
) -> Callable[[str], StepResult]:
    return lambda lane_url: run_step_checks(step, path, lane_url, limit, selection=selection)


def run_tasks(
    proofs: Sequence[Proof[T]],
    url: str,
    *,
    jobs: int | None = None,
    on_result: Callable[[int, T], None] | None = None,
    spare_server: SpareServer | None = None,
) -> list[T]:
    """Run ``proofs`` in lanes under the isolation rules above; results in input order.

    The first exception a proof raises stops the dispatching of new proofs and is raised
    here once the running ones have finished.
    """
    wanted = max(1, min(jobs or default_jobs(), MAX_JOBS, len(proofs) or 1))
    with ExitStack() as servers:
        if spare_server is not None:
            lanes = [url]
            for _ in range(wanted - 1):
                # Started here, before any lane runs, and stopped when the last has ended.
                lanes.append(servers.enter_context(spare_server()).url)
            return _Scheduler(proofs, lanes, private=True, on_result=on_result).run()
        lanes = [url, *_spare_databases(url, wanted - 1)]
        return _Scheduler(proofs, lanes, private=False, on_result=on_result).run()


def _spare_databases(url: str, count: int) -> list[str]:
    """URLs of up to ``count`` other databases of ``url``'s server that hold no keys."""
    if count <= 0:
        return []
    parts = urlsplit(url)
    try:
        current = int(parts.path.strip("/") or 0)
    except ValueError:
        return []
    found: list[str] = []
    client = valkey.Valkey.from_url(url, socket_timeout=5)
    try:
        databases = int(client.config_get("databases").get("databases", 16))
        keyspace = client.info("keyspace")
    except valkey.ValkeyError:
        return []  # CONFIG may be refused on a managed server: stay on one database
    finally:
        client.close()
    for number in range(databases):
        if len(found) == count:
            break
        if number != current and f"db{number}" not in keyspace:
            found.append(urlunsplit(parts._replace(path=f"/{number}")))
    return found


class _Scheduler(Generic[T]):
    """Hands proofs to lane threads one at a time, honouring the isolation rules."""

    def __init__(
        self,
        proofs: Sequence[Proof[T]],
        lanes: list[str],
        *,
        private: bool,
        on_result: Callable[[int, T], None] | None,
    ) -> None:
        self._proofs = proofs
        self._lanes = lanes
        self._private = private
        self._on_result = on_result
        order = range(len(proofs))
        if private:
            # Longest first, so that no lane sits idle at the end while another still works
            # through a slow proof: by the proof's weight, then its step's time limit. (By the
            # time limit alone, step 09's whole-step runs, which mostly wait, came last: on 2
            # cores one lane then ran them alone for about 3 s.) Within a weight the steps
            # take turns, so that lanes rarely run two proofs of one step side by side: a
            # step's proofs tend to wait, or to compute, alike.
            turn: dict[tuple[str, float], int] = {}
            position = []
            for proof in proofs:
                group = (proof.step.slug, proof.weight)
                position.append(turn.get(group, 0))
                turn[group] = position[-1] + 1
            self._pending = sorted(
                order,
                key=lambda index: (
                    -proofs[index].weight,
                    position[index],
                    -proofs[index].step.time_limit_seconds,
                ),
            )
        else:
            # Server-changing proofs last on a shared server: they run alone.
            self._pending = sorted(order, key=lambda index: proofs[index].step.changes_server)
        self._results: dict[int, T] = {}
        self._running_steps: list[str] = []
        self._exclusive = False
        self._error: BaseException | None = None
        self._lock = threading.Condition()
        self._report = threading.Lock()

    def run(self) -> list[T]:
        if len(self._lanes) == 1:
            for index in self._pending:
                self._finish(index, self._proofs[index].run(self._lanes[0]))
            return [self._results[index] for index in range(len(self._proofs))]
        threads = [
            threading.Thread(target=self._lane, args=(lane,), daemon=True) for lane in self._lanes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            # A timed join keeps the main thread responsive to Ctrl-C.
            while thread.is_alive():
                thread.join(0.2)
        if self._error is not None:
            raise self._error
        return [self._results[index] for index in range(len(self._proofs))]

    def _next(self) -> int | None:
        """The next proof this lane may run now; None when there is nothing left."""
        with self._lock:
            while True:
                if self._error is not None or not self._pending:
                    return None
                for position, index in enumerate(self._pending):
                    if self._may_start(self._proofs[index].step):
                        del self._pending[position]
                        step = self._proofs[index].step
                        self._running_steps.append(step.slug)
                        self._exclusive = not self._private and step.changes_server
                        return index
                self._lock.wait()

    def _may_start(self, step: Step) -> bool:
        if self._private:
            return True
        if self._exclusive:
            return False
        if step.changes_server:
            return not self._running_steps
        return step.slug not in self._running_steps

    def _lane(self, url: str) -> None:
        while (index := self._next()) is not None:
            proof = self._proofs[index]
            try:
                self._finish(index, proof.run(url))
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
                with self._lock:
                    if self._error is None:
                        self._error = error
                    self._done(proof.step)
                return
            with self._lock:
                self._done(proof.step)

    def _done(self, step: Step) -> None:
        self._running_steps.remove(step.slug)
        self._exclusive = False
        self._lock.notify_all()

    def _finish(self, index: int, result: T) -> None:
        with self._report:
            self._results[index] = result
            if self._on_result is not None:
                self._on_result(index, result)
