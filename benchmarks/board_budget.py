"""The memory attack of the second security round on a real class server (embedded Valkey on
loopback): one person with the join code joins many fake learners (more than the class's
seats) and sends each one's bursts of the largest valid events, then one real learner's
result. Reports the server's memory against its cap, the stream's length, whether the real
result arrived, and how long ``class board --json`` takes. Targets: under 80 % of the cap,
the real result on the board, the board within 500 ms.

    python -m benchmarks.board_budget [--fakes 320] [--seconds 30]
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from pathlib import Path

import valkey

from valkey_workshop.classroom.board import check_names
from valkey_workshop.classroom.config import events_key, inbox_key
from valkey_workshop.classroom.membership import ClassPublisher, Membership, step_payload
from valkey_workshop.classroom.serve import serve_class
from valkey_workshop.classroom.trainer import open_board
from valkey_workshop.content import load_module
from valkey_workshop.errors import ServerError
from valkey_workshop.server.embedded import free_loopback_port

TARGET_SHARE = 0.8
TARGET_BOARD_MS = 500.0


@functools.cache
def _largest_event() -> dict[str, str]:
    """The largest event the relay accepts (every check id of the biggest step)."""
    names = check_names(load_module("module3"))
    step = max({s for s, _ in names}, key=lambda s: sum(1 for n, _ in names if n == s))
    checks = [(check, False) for number, check in names if number == step]
    base = step_payload(
        kind="check", module="module3", number=step, slug="s" * 64, passed=False,
        checks=checks, attempt=9_999, seconds=99_999, hints=999, backend="b" * 16,
        server_version="v" * 32,
    )  # fmt: skip
    return base


def _largest_batch(round_number: int, index: int) -> str:
    """40 of the largest events the relay accepts."""
    base = _largest_event()
    return json.dumps([{**base, "id": f"{round_number:016x}{index:08x}{n:08x}"} for n in range(40)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fakes", type=int, default=320)
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        listen = f"127.0.0.1:{free_loopback_port()}"
        with serve_class(folder, listen=listen, advertise=None, module="module3") as served:
            code = served.config.join_code()
            fakes: list[Membership] = []
            refused = 0
            started = time.perf_counter()
            for index in range(options.fakes):
                try:
                    fakes.append(
                        ClassPublisher(Path(tmp) / f"f{index}").join(code, f"fake {index}", 30)
                    )
                except ServerError:
                    refused += 1
            join_seconds = time.perf_counter() - started
            clients = [
                valkey.Valkey(host=m.host, port=m.port, username=m.user, password=m.secret)
                for m in fakes
            ]
            started = time.perf_counter()
            round_number = 0
            while time.perf_counter() - started < options.seconds:
                for index, (member, client) in enumerate(zip(fakes, clients, strict=True)):
                    client.set(
                        inbox_key(member.class_id, member.learner_id),
                        _largest_batch(round_number, index),
                        nx=True,
                    )
                round_number += 1
            real = ClassPublisher(Path(tmp) / "real")
            admin = valkey.Valkey.from_url(served.config.own_admin_url())
            memory = admin.info("memory")
            used, cap = int(memory["used_memory"]), int(memory["maxmemory"])
            stream = admin.xlen(events_key(code.class_id))
            admin.close()
            for client in clients:
                client.close()
            # The real learner gets no seat (the fakes took them); the trainer removes one.
            outcome = "no seat"
            try:
                real.join(code, "Real", 30)
                outcome = "joined"
            except ServerError as error:
                outcome = "refused: " + str(error)[:60]
            timings = []
            for _ in range(3):
                started_board = time.perf_counter()
                board, trainer = open_board(folder)
                json.dumps(board.snapshot().to_json())
                if trainer is not None:
                    trainer.close()
                timings.append((time.perf_counter() - started_board) * 1000)
    ok = used < cap * TARGET_SHARE and max(timings) <= TARGET_BOARD_MS
    print(
        f"{options.fakes} fake joins in {join_seconds:.1f} s ({refused} refused: the class's "
        f"seats); {round_number} rounds of 40-event bursts in {options.seconds:.0f} s: "
        f"server memory {used / 1e6:.1f} MB of {cap / 1e6:.0f} MB, stream {stream} entries; "
        f"a real learner's join: {outcome}; class board --json {min(timings):.0f}-"
        f"{max(timings):.0f} ms ({'within' if ok else 'OVER'} the targets)"
    )


if __name__ == "__main__":
    main()
