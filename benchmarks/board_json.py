"""How long ``workshop class board --json`` takes for a class of 200 learners with 100,000
small events on a real class server (embedded Valkey on loopback): open the board (the relay's
saved state, then the stream since), take a snapshot, print it as JSON. Also the same from
the stream alone, for comparison. Target: at most 500 ms.

    python -m benchmarks.board_json [--learners 200] [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import valkey

from valkey_workshop.classroom.board import ClassBoard
from valkey_workshop.classroom.config import events_key, state_key
from valkey_workshop.classroom.serve import serve_class
from valkey_workshop.classroom.trainer import open_board
from valkey_workshop.content import load_module
from valkey_workshop.server.embedded import free_loopback_port

TARGET_MS = 500.0


def _fill(client: valkey.Valkey, key: str, learners: int, events: int) -> None:
    pipe = client.pipeline(transaction=False)
    for index in range(events):
        learner = index % learners
        number = (index // learners) % 9 + 1
        pipe.xadd(
            key,
            {
                "v": "2", "id": f"{index:032x}", "kind": "check", "module": "module3",
                "step": str(number), "passed": "1" if index % 3 else "0",
                "checks": json.dumps([["a", 1], ["b", 1 if index % 3 else 0]]),
                "attempt": "1", "seconds": "60", "hints": "0", "backend": "embedded",
                "server_version": "9.1.2", "learner_id": f"{learner:016x}",
                "learner": f"learner {learner:03d}",
            },
        )  # fmt: skip
        if index % 5_000 == 4_999:
            pipe.execute()
    pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--events", type=int, default=100_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        listen = f"127.0.0.1:{free_loopback_port()}"
        with serve_class(folder, listen=listen, advertise=None, module="module3") as served:
            client = valkey.Valkey.from_url(served.server.url)
            _fill(client, events_key(served.config.class_id), options.learners, options.events)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                raw = client.get(state_key(served.config.class_id))
                if raw and json.loads(raw)["events"] == options.events:
                    break
                served.relay.wait_passes(1)
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                board, trainer = open_board(folder)
                json.dumps(board.snapshot().to_json(), indent=2)
                if trainer is not None:
                    trainer.close()
                timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            cold = ClassBoard(served.config, load_module("module3"))
            cold.refresh(client, use_state=False)
            json.dumps(cold.snapshot().to_json(), indent=2)
            cold_ms = (time.perf_counter() - started) * 1000
            client.close()
    best, worst = min(timings), max(timings)
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(
        f"class board --json, {options.learners} learners, {options.events} events: "
        f"{best:.0f}-{worst:.0f} ms from the relay's state ({verdict} the {TARGET_MS:.0f} ms "
        f"target); {cold_ms:.0f} ms from the stream alone"
    )


if __name__ == "__main__":
    main()
