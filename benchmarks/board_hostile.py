"""100,000 hostile publication attempts on a real class server (embedded Valkey on loopback),
from learners who joined and from the join code alone: direct XADDs with trims and ids,
malformed and oversized batches, a flood of join requests, valid events far over the rate.
Then: the server's memory against its cap, and how long a trainer's board takes to open and
redraw at 80x24. Targets: under the cap; a redraw within 1 s.

    python -m benchmarks.board_hostile [--attempts 100000] [--hostile 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import valkey

from valkey_workshop.classroom.config import events_key, inbox_key, joins_key
from valkey_workshop.classroom.membership import ClassPublisher, step_payload
from valkey_workshop.classroom.serve import serve_class
from valkey_workshop.classroom.trainer import open_board
from valkey_workshop.render.board import board_view
from valkey_workshop.render.console import render_text
from valkey_workshop.server.embedded import free_loopback_port

TARGET_REDRAW_MS = 1_000.0
_CHUNK = 1_000


def _attempts(key_events: str, inbox: str, joins: str, index: int) -> list[tuple[str, ...]]:
    valid = step_payload(
        kind="check", module="module3", number=2, slug="cache-aside", passed=True,
        checks=[("cached-as-json-with-ttl", True)], attempt=1, seconds=1.0, hints=0,
        backend="x", server_version="1",
    )  # fmt: skip
    kind = index % 5
    if kind == 0:
        return [("XADD", key_events, "MAXLEN", "=", "0", "*", "v", "1")]
    if kind == 1:
        return [("XADD", key_events, "18446744073709551615-18446744073709551615", "v", "1")]
    if kind == 2:
        return [("SET", inbox, json.dumps([{"kind": "check", "checks": "[" * 5_000}]), "NX")]
    if kind == 3:
        return [("SET", inbox, "x" * 60_000)]
    batch = [{**valid, "id": f"{index:016x}{n:016x}"} for n in range(40)]
    return [("SET", inbox, json.dumps(batch), "NX"), ("RPUSH", joins, "{" * 900)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--hostile", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        listen = f"127.0.0.1:{free_loopback_port()}"
        with serve_class(folder, listen=listen, advertise=None, module="module3") as served:
            code = served.config.join_code()
            members = [
                ClassPublisher(Path(tmp) / f"h{i}").join(code, f"hostile {i}")
                for i in range(options.hostile)
            ]
            clients = [
                valkey.Valkey(host=m.host, port=m.port, username=m.user, password=m.secret)
                for m in members
            ]
            joiner = valkey.Valkey(
                host=code.host, port=code.port, username=code.join_user, password=code.password
            )
            started = time.perf_counter()
            sent = 0
            while sent < options.attempts:
                for member, client in zip(members, clients, strict=True):
                    pipe = client.pipeline(transaction=False)
                    flood = joiner.pipeline(transaction=False)
                    inbox = inbox_key(member.class_id, member.learner_id)
                    for index in range(sent, sent + _CHUNK // options.hostile):
                        for command in _attempts(
                            events_key(code.class_id), inbox, joins_key(code.class_id), index
                        ):
                            (flood if command[0] == "RPUSH" else pipe).execute_command(*command)
                    pipe.execute(raise_on_error=False)
                    flood.execute(raise_on_error=False)
                    sent += _CHUNK // options.hostile
            flood_seconds = time.perf_counter() - started
            admin = valkey.Valkey.from_url(served.config.own_admin_url())
            memory = admin.info("memory")
            used, cap = int(memory["used_memory"]), int(memory["maxmemory"])
            served.relay.wait_passes(3)
            started = time.perf_counter()
            board, trainer = open_board(folder)
            text = render_text(board_view(board.snapshot(), height=24), 80)
            if trainer is not None:
                trainer.close()
            redraw_ms = (time.perf_counter() - started) * 1000
            stream = admin.xlen(events_key(code.class_id))
            admin.close()
            for client in (*clients, joiner):
                client.close()
    verdict = "within" if redraw_ms <= TARGET_REDRAW_MS and used < cap else "OVER"
    print(
        f"{sent} hostile attempts in {flood_seconds:.1f} s from {options.hostile} learners: "
        f"stream {stream} entries, server memory {used / 2**20:.1f} MB of a "
        f"{cap / 2**20:.0f} MB cap; board opened and redrawn in {redraw_ms:.0f} ms "
        f"({len(text.splitlines())} lines at 80x24; {verdict} the targets)"
    )


if __name__ == "__main__":
    main()
