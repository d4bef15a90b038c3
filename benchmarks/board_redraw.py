"""How long the trainer's board takes to redraw for a large class: fold the new events, take a
snapshot, render it at 80 columns. Target: at most 50 ms for 200 learners.

    python -m benchmarks.board_redraw [--learners 200] [--events-each 20] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from valkey_workshop.classroom.board import ClassBoard
from valkey_workshop.classroom.config import ClassConfig
from valkey_workshop.content import load_module
from valkey_workshop.render.board import board_view
from valkey_workshop.render.console import render_text

TARGET_MS = 50.0


def _events(learners: int, each: int, start_ms: int) -> list[tuple[str, dict[str, str]]]:
    entries = []
    moment = start_ms
    for round_number in range(each):
        for learner in range(learners):
            moment += 1
            number = round_number % 9 + 1
            entries.append(
                (
                    f"{moment}-0",
                    {
                        "id": f"{learner:016x}{round_number:016x}",
                        "learner": f"learner {learner:03d}",
                        "learner_id": f"{learner:016x}",
                        "kind": "check",
                        "module": "module3",
                        "step": str(number),
                        "passed": "1" if (learner + round_number) % 3 else "0",
                        "checks": json.dumps(
                            [["a", 1], ["b", 1 if (learner + round_number) % 3 else 0]]
                        ),
                        "attempt": str(round_number + 1),
                        "seconds": "60",
                        "hints": "1",
                        "backend": "embedded",
                        "server_version": "9.1.2",
                    },
                )
            )
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--events-each", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()

    module = load_module("module3")
    config = ClassConfig.new("127.0.0.1:6390", None, "module3", time.time() - 1200)
    board = ClassBoard(config, module)
    start_ms = int(time.time() * 1000) - 3_600_000
    board.fold(_events(options.learners, options.events_each, start_ms))
    timings = []
    for index in range(options.rounds):
        # Each redraw also folds one new event per learner, as a busy class sends them.
        fresh = _events(options.learners, 1, start_ms + 10_000_000 + index * 10_000)
        for _, fields in fresh:
            fields["id"] = fields["id"][:16] + f"{index + 1_000_000:016x}"
        started = time.perf_counter()
        board.fold(fresh)
        render_text(board_view(board.snapshot(), height=24), 80)
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    worst = max(timings)
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(
        f"board redraw, {options.learners} learners, {board.snapshot().events} events: "
        f"median {median:.1f} ms, max {worst:.1f} ms ({verdict} the {TARGET_MS:.0f} ms target)"
    )


if __name__ == "__main__":
    main()
