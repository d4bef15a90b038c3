"""A TCP proxy on 127.0.0.1 that adds network delay between clients and a Valkey server.

On loopback a round trip costs tens of microseconds, so pipelining and client-side caching
look like small wins. Through this proxy every byte waits half the chosen RTT in each
direction, like a real network hop, and the gains show at their real size. Order is kept:
chunks in one direction are released in the order they arrived. The delay can be changed (or
set to zero) while connections are open.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from valkey_workshop.errors import UsageError

LOOPBACK = "127.0.0.1"


def parse_rtt(text: str) -> float:
    """``"1ms"``, ``"500us"``, ``"0.002s"`` or a bare number of milliseconds, in seconds.

    Raises:
        UsageError: not a duration, negative, or over a second (demos would crawl).
    """
    value = text.strip().lower().replace("µs", "us")
    units = (("ms", 1e-3), ("us", 1e-6), ("s", 1.0))
    scale = 1e-3
    for suffix, factor in units:
        if value.endswith(suffix):
            value, scale = value[: -len(suffix)], factor
            break
    try:
        seconds = float(value) * scale
    except ValueError:
        raise UsageError(f"--rtt {text!r} is not a duration; try 1ms or 500us.") from None
    if not 0 <= seconds <= 1:
        raise UsageError(f"--rtt {text!r} must be between 0 and 1s.")
    return seconds


class _Direction:
    """Bytes from one socket to another, each chunk released `delay()` after it arrived."""

    def __init__(self, source: socket.socket, sink: socket.socket, proxy: LatencyProxy) -> None:
        self._source, self._sink, self._proxy = source, sink, proxy
        self._queue: deque[tuple[float, bytes]] = deque()
        self._ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._send, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self._source.recv(65536)
            except OSError:
                data = b""
            with self._ready:
                self._queue.append((time.monotonic() + self._proxy.delay, data))
                self._ready.notify()
            if not data:
                return

    def _send(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                due, data = self._queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # precise to about 0.1 ms, unlike an event loop's timers
            try:
                if not data:
                    self._sink.shutdown(socket.SHUT_WR)
                    return
                self._sink.sendall(data)
            except OSError:
                return


class LatencyProxy:
    """Forwards 127.0.0.1:<port> to the server, adding ``rtt / 2`` in each direction.

    Use as a context manager; ``url_for(server_url)`` gives the URL to connect through it.
    """

    def __init__(self, target_host: str, target_port: int, rtt_seconds: float) -> None:
        self.target = (target_host, target_port)
        self.rtt_seconds = rtt_seconds
        self.enabled = True
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    @property
    def delay(self) -> float:
        """The delay each direction adds now (half the RTT, or 0 when switched off)."""
        return self.rtt_seconds / 2 if self.enabled else 0.0

    def start(self) -> LatencyProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen()
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for connection in (client, upstream):
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sockets.append(connection)
            _Direction(client, upstream, self)
            _Direction(upstream, client, self)

    def url_for(self, server_url: str) -> str:
        """``server_url`` with host and port replaced by the proxy's."""
        parts = urlsplit(server_url)
        auth = server_url.split("//", 1)[1].split("@", 1)[0] + "@" if "@" in parts.netloc else ""
        netloc = f"{auth}{LOOPBACK}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def stop(self) -> None:
        """Close the listener and every forwarded connection."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        for connection in self._sockets:
            with contextlib.suppress(OSError):
                connection.close()
        self._sockets.clear()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def simulated_network(server_url: str, rtt_seconds: float | None) -> Iterator[LatencyProxy | None]:
    """A proxy adding ``rtt_seconds`` in front of the server, or None when no RTT is asked."""
    if rtt_seconds is None:
        yield None
        return
    target = urlsplit(server_url)
    with LatencyProxy(target.hostname or LOOPBACK, target.port or 6379, rtt_seconds) as proxy:
        yield proxy
