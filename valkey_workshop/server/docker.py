"""The docker backend: a Valkey container, created, configured and started through docker-py.

Secure by default: the published port is bound to 127.0.0.1 only (or, with host networking,
the server itself binds 127.0.0.1), a random password, no persistence. The password travels in
a config file copied into the created container before it starts (``put_archive``), never in
its command or environment, which ``docker inspect`` shows. The container is removed when the
command ends, on errors and on Ctrl-C, in any state (an interrupted start leaves it "created").
testcontainers' reaper (Ryuk) removes it after a crash when the reaper's image is present;
where it is not, every start removes the containers of earlier workshop processes that no
longer run, in any state.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import socket
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from valkey_workshop import naming
from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend, ServerInfo, ping_version, process_alive
from valkey_workshop.server.embedded import LOOPBACK, free_loopback_port

#: The official image, pinned so that every learner in a room runs the same server.
DEFAULT_IMAGE = "valkey/valkey:9.1.2"
IMAGE_ENV = "WORKSHOP_IMAGE"
NETWORK_ENV = "WORKSHOP_DOCKER_NETWORK"
NETWORKS = ("bridge", "host")
#: Labels that mark our containers, so a later start can remove what a crash left behind.
LABEL = "io.valkey-workshop"
LABEL_PID = "io.valkey-workshop.pid"
LABEL_HOST = "io.valkey-workshop.host"
LABEL_RUN = "io.valkey-workshop.run"
#: Where the server's config file (with its password) goes inside the container.
CONFIG_PATH = "/data/workshop-valkey.conf"
CONTAINER_PORT = 6379


def resolve_image(flag: str | None) -> str:
    """``--image`` > ``$WORKSHOP_IMAGE`` > the pinned default."""
    return flag or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


def resolve_network(flag: str | None) -> str:
    """``--docker-network`` > ``$WORKSHOP_DOCKER_NETWORK`` > bridge (a published port)."""
    value = (flag or os.environ.get(NETWORK_ENV) or "bridge").strip().lower()
    if value not in NETWORKS:
        raise UsageError(f"Unknown Docker network {value!r}; choose one of {', '.join(NETWORKS)}.")
    return value


class EngineUnavailableError(ServerError):
    """No usable Docker engine; ``short`` is the reason without advice, for auto's message."""

    def __init__(self, message: str, short: str) -> None:
        super().__init__(message)
        self.short = short


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect_engine(timeout: float = 5.0) -> Any:
    """A docker-py client that has answered a ping.

    Raises:
        ServerError: no engine, or no permission to use it; the message says which.
    """
    import docker  # noqa: PLC0415 - docker-py is slow to import; only this backend needs it
    from docker.errors import DockerException  # noqa: PLC0415

    address = engine_address()
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except DockerException as error:
        text = str(error)
        if "Permission denied" in text or "PermissionError" in text:
            short = f"Permission denied on the Docker engine at {address}"
            raise EngineUnavailableError(
                f"{short}: add your user to the 'docker' group (then log in again), "
                "or use --backend embedded.",
                short,
            ) from error
        short = f"Docker engine not reachable at {address}"
        raise EngineUnavailableError(
            f"{short}: is Docker running? (--backend embedded needs no Docker)", short
        ) from error
    return client


@dataclass(frozen=True)
class ImageStatus:
    present: bool
    pullable: bool | None  # None: not asked
    detail: str


def image_status(client: Any, image: str, ask_registry: bool) -> ImageStatus:
    """Whether ``image`` is present locally and, if asked, whether its registry answers."""
    from docker.errors import DockerException, ImageNotFound  # noqa: PLC0415

    try:
        client.images.get(image)
        return ImageStatus(True, None, "present")
    except ImageNotFound:
        pass
    if not ask_registry:
        return ImageStatus(False, None, "not present")
    try:
        client.images.get_registry_data(image)
        return ImageStatus(False, True, "not present, can be pulled")
    except DockerException as error:
        return ImageStatus(
            False, False, f"not present and cannot be pulled ({pull_failure(error)})"
        )


def pull_failure(error: BaseException) -> str:
    """Why an image cannot be pulled, in a few words."""
    text = str(error).lower()
    if any(word in text for word in ("dial tcp", "no such host", "timeout", "connection refused")):
        return "registry unreachable"
    if any(word in text for word in ("not found", "manifest unknown", "pull access denied")):
        return "no such image in the registry"
    return _short(error)


def _short(error: BaseException) -> str:
    """The reason an engine call failed, in one line. docker-py's ``APIError`` reads
    "500 Server Error for http+docker://.../containers/<64 hex>/start: Internal Server Error
    ("<the engine's reason>")": cut at 160 characters, only the URL was left, so its
    ``explanation`` (the engine's own words) goes first."""
    explanation = getattr(error, "explanation", None)
    text = str(explanation or error).strip()
    if isinstance(explanation, (str, bytes)) and getattr(error, "status_code", None):
        text = f"{text} (engine answered {error.status_code})"  # type: ignore[attr-defined] # docker's APIError
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= 240 else first[:237] + "..."


def pull_image(client: Any, image: str) -> Any:
    """Pull ``image``, yielding docker's progress events (for a progress display)."""
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = image, "latest"
    yield from client.api.pull(repository, tag=tag, stream=True, decode=True)


def remove_stale_containers(client: Any) -> int:
    """Remove workshop containers whose owning process (on this host) has ended."""
    removed = 0
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels or {}
        if labels.get(LABEL_HOST) != host:
            continue
        try:
            owner = int(labels.get(LABEL_PID, "0"))
        except ValueError:
            owner = 0
        if owner and process_alive(owner):
            continue
        with contextlib.suppress(Exception):  # already going away: nothing to do
            container.remove(force=True)
            removed += 1
    return removed


def _use_reaper_if_available(client: Any) -> bool:
    """Enable testcontainers' reaper only when its image is here; say whether it is on."""
    from docker.errors import ImageNotFound  # noqa: PLC0415
    from testcontainers.core.config import testcontainers_config  # noqa: PLC0415

    if os.environ.get("TESTCONTAINERS_RYUK_DISABLED"):
        return not testcontainers_config.ryuk_disabled
    try:
        client.images.get(testcontainers_config.ryuk_image)
        testcontainers_config.ryuk_disabled = False
    except ImageNotFound:
        # Pulling it would fail where no registry answers; our labels do its job instead.
        testcontainers_config.ryuk_disabled = True
    return not testcontainers_config.ryuk_disabled


def _reaper_labels() -> dict[str, str]:
    """Start testcontainers' reaper (its image is present) and label our container for it."""
    from testcontainers.core.container import Reaper  # noqa: PLC0415
    from testcontainers.core.labels import LABEL_SESSION_ID, SESSION_ID  # noqa: PLC0415

    Reaper.get_instance()
    return {LABEL_SESSION_ID: SESSION_ID}


def config_archive(text: str) -> bytes:
    """A tar holding ``text`` as the server's config file, for ``put_archive`` into the
    container before it starts. Owned by uid 999 (the official image's ``valkey`` user, which
    its entrypoint switches to) and readable by that user only."""
    data = text.encode("utf-8")
    member = tarfile.TarInfo(CONFIG_PATH.lstrip("/").split("/", 1)[1])
    member.size, member.mode, member.uid, member.gid = len(data), 0o600, 999, 999
    member.mtime = int(time.time())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def server_config(password: str, bind: str, port: int, persistent: bool = False) -> str:
    """The container's valkey.conf: the password lives here, never in the container's
    command or environment (both of which ``docker inspect`` shows). ``persistent`` (the
    class server) keeps an append-only file in ``/data``, fsynced on every write."""
    persistence = (
        ['dir "/data"', "appendonly yes", "appendfsync always"] if persistent else ["appendonly no"]
    )
    return "\n".join(
        [
            f"bind {bind}",
            f"port {port}",
            "protected-mode yes",
            f'requirepass "{password}"',
            'save ""',
            *persistence,
            "",
        ]
    )


#: Rounds (and the pause between them) of removing this backend's containers when it stops.
_REMOVE_ROUNDS = 10
_REMOVE_PAUSE_SECONDS = 0.2


class DockerBackend(ServerBackend):
    """A Valkey container for the session."""

    name: ClassVar[str] = "docker"

    def __init__(
        self,
        image: str,
        network: str = "bridge",
        startup_timeout: float = 30.0,
        port: int | None = None,
        bind: str = LOOPBACK,
        data_dir: Path | None = None,
    ) -> None:
        """``bind`` other than 127.0.0.1 and a persistent ``data_dir`` (mounted at /data) are
        for the class server only; the learner's server keeps loopback and nothing on disk."""
        self.image = image
        self._bind = bind
        self._data_dir = data_dir
        self.network = network
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._container: Any = None
        self._engine: Any = None
        #: Marks every container this backend creates, so ``stop`` removes even one whose
        #: creation an interrupt cut short (created on the engine, its id never returned).
        self._run_id = uuid.uuid4().hex
        self._password: str | None = None
        self._port: int | None = None
        #: Stopped by its owner: a restart now would start a container nobody removes.
        self._closed = False
        self.stale_removed = 0
        self.reaper = False

    @property
    def container_id(self) -> str | None:
        return self._container.id if self._container is not None else None

    def start(self) -> ServerInfo:
        self._closed = False
        client = connect_engine()
        self._engine = client
        self.stale_removed = remove_stale_containers(client)
        status = image_status(client, self.image, ask_registry=False)
        if not status.present:
            try:
                for _ in pull_image(client, self.image):
                    pass
            except Exception as error:
                raise ServerError(
                    f"Image {self.image} is not present and cannot be pulled "
                    f"({pull_failure(error)}). Pull it where there is network "
                    f"(`{naming.program()} doctor --pull`), or pass --image with a local image."
                ) from error
        self.reaper = _use_reaper_if_available(client)
        self._password = secrets.token_urlsafe(24)
        return self._launch()

    def _launch(self) -> ServerInfo:
        client, password = self._engine, self._password
        assert client is not None and password is not None
        labels = {
            LABEL: "1",
            LABEL_PID: str(os.getpid()),
            LABEL_HOST: socket.gethostname(),
            LABEL_RUN: self._run_id,
        }
        if self.reaper:
            labels.update(_reaper_labels())
        options: dict[str, Any] = {"labels": labels, "detach": True}
        persistent = self._data_dir is not None
        if persistent:
            options["volumes"] = {str(self._data_dir): {"bind": "/data", "mode": "rw"}}
        if self.network == "host":
            # The server binds loopback itself (or the class's address), on a free port.
            port = self._port or self._requested_port or free_loopback_port()
            config = server_config(password, self._bind, port, persistent)
            options["network_mode"] = "host"
        else:
            # Published on 127.0.0.1 only (or the class's address): nothing else is opened.
            # docker-py reads a 1-tuple as "this host address, any free port"; a restart asks
            # for the same one.
            port = CONTAINER_PORT
            config = server_config(password, "* -::*", port, persistent)
            wanted = self._port or self._requested_port
            host_port = (self._bind, wanted) if wanted else (self._bind,)
            options["ports"] = {f"{CONTAINER_PORT}/tcp": host_port}
        started = time.perf_counter()
        try:
            self._container = client.containers.create(
                self.image, command=["valkey-server", CONFIG_PATH], **options
            )
            self._container.put_archive(CONFIG_PATH.rsplit("/", 1)[0], config_archive(config))
            self._container.start()
            if self.network != "host":
                port = self._published_port(self._container)
            self._port = port
            host = LOOPBACK if self._bind in ("0.0.0.0", "*") else self._bind  # noqa: S104
            url = f"valkey://:{password}@{host}:{port}/0"
            version = self._wait_ready(url, started)
        except ServerError:
            self.stop()
            raise
        except Exception as error:
            logs = self._logs()
            self.stop()
            if "Address already in use" in logs or "address already in use" in str(error):
                raise ServerError(f"Port {port} on {LOOPBACK} is already in use.") from error
            raise ServerError(
                f"The Valkey container ({self.image}) did not start: {_short(error)}"
                + (f"\nIts last log lines:\n{logs}" if logs else "")
            ) from error
        where = "host network" if self.network == "host" else "port published on 127.0.0.1 only"
        return ServerInfo(
            backend=self.name,
            url=url,
            version=version,
            description=(
                f"Valkey {version} in a container ({self.image}) on {LOOPBACK}:{port}, "
                f"{where}, password protected"
            ),
            private=True,
            restart=self.restart,
        )

    def restart(self) -> ServerInfo:
        """Remove the container and start a new one with the same password and port, so the
        URL stays valid (after learner code stopped or wedged the server).

        Raises:
            ServerError: the new container did not start, or the backend was stopped by its
                owner (the command is ending).
        """
        if self._closed:
            raise ServerError("The server was stopped because the command is ending.")
        if self._engine is None or self._password is None:
            return self.start()
        self._remove_ours()
        return self._launch()

    def _published_port(self, container: Any) -> int:
        try:
            container.reload()
            return int(container.ports[f"{CONTAINER_PORT}/tcp"][0]["HostPort"])
        except Exception as error:
            raise ServerError(
                "The Docker engine published no port for the container (an engine without a "
                "bridge network?). On Linux, try --docker-network host."
            ) from error

    def _wait_ready(self, url: str, started: float) -> str:
        # Readiness is an authenticated PING from here: no `valkey-cli -a PASSWORD` inside the
        # container, whose command line the host's `ps` and the engine's exec records show.
        while True:
            version = ping_version(url)
            if version is not None:
                return version
            self._container.reload()
            if self._container.status in ("exited", "dead"):
                logs = self._logs()
                if "Address already in use" in logs:
                    raise ServerError(f"Port {self._port} on {LOOPBACK} is already in use.")
                raise ServerError(
                    f"The Valkey container ({self.image}) did not start: it exited."
                    + (f"\nIts last log lines:\n{logs}" if logs else "")
                )
            if time.perf_counter() - started > self._startup_timeout:
                logs = self._logs()
                limit = f"{self._startup_timeout:.0f} s"
                raise ServerError(
                    f"The Valkey container did not answer PING within {limit}."
                    + (f"\nIts last log lines:\n{logs}" if logs else "")
                )
            time.sleep(0.02)

    def _logs(self, lines: int = 8) -> str:
        container = self._container
        if container is None:
            return ""
        try:
            text = str(container.logs(tail=lines).decode("utf-8", errors="replace")).strip()
        except Exception:  # noqa: BLE001 - the container may already be gone
            return ""
        return text

    def _remove_ours(self) -> None:
        """Remove every container of this backend, whatever its state (created, running,
        exited): the one we know and any whose creation an interrupt cut short."""
        container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):  # already gone
                container.remove(force=True)
        engine = self._engine
        if engine is None:
            return
        # A start an interrupt cut short goes on in the engine: a removal while it is still
        # starting the container can be refused ("removal already in progress", "cannot
        # kill"), so look again until none is left (a few rounds at most).
        for _ in range(_REMOVE_ROUNDS):
            try:
                leftovers = engine.containers.list(
                    all=True, filters={"label": f"{LABEL_RUN}={self._run_id}"}
                )
            except Exception:  # noqa: BLE001 - an engine that went away has nothing to remove
                return
            if not leftovers:
                return
            for leftover in leftovers:
                with contextlib.suppress(Exception):  # refused this round: the next one sees it
                    leftover.remove(force=True)
            time.sleep(_REMOVE_PAUSE_SECONDS)

    def stop(self) -> None:
        self._closed = True
        self._remove_ours()
        engine, self._engine = self._engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                engine.close()
