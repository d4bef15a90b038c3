"""The docker backend: a Valkey container started through testcontainers' ``ValkeyContainer``.

Secure by default: the published port is bound to 127.0.0.1 only (or, with host networking,
the server itself binds 127.0.0.1), a random password, no persistence. The container is removed
when the command ends, on errors and on Ctrl-C. testcontainers' reaper (Ryuk) removes it after
a crash when the reaper's image is present; where it is not, the reaper is disabled and every
start removes the containers of earlier workshop processes that no longer run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend, ServerInfo, ping_version
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
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


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
        if owner and _alive(owner):
            continue
        with contextlib.suppress(Exception):  # already going away: nothing to do
            container.remove(force=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


class ContainerExitedError(Exception):
    """The container stopped before it was ready."""


def _ping_in_container(command: list[str], timeout: float) -> Any:
    """A testcontainers wait strategy: ``valkey-cli ... ping`` inside the container until it
    answers, polled every 50 ms; fails at once when the container has exited (testcontainers'
    own ExecWaitStrategy would retry until its timeout, polling once a second)."""
    from testcontainers.core.wait_strategies import WaitStrategy  # noqa: PLC0415

    class PingInContainer(WaitStrategy):
        def wait_until_ready(self, container: Any) -> None:
            deadline = time.monotonic() + timeout
            wrapped = container.get_wrapped_container()
            while True:
                wrapped.reload()
                if wrapped.status in ("exited", "dead"):
                    raise ContainerExitedError(f"the container exited ({wrapped.status})")
                result = container.exec(command)
                if result.exit_code == 0 and b"PONG" in (result.output or b""):
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"valkey-cli ping did not answer within {timeout:.0f} s")
                time.sleep(0.05)

    return PingInContainer()


class DockerBackend(ServerBackend):
    """A Valkey container for the session."""

    name: ClassVar[str] = "docker"

    def __init__(
        self,
        image: str,
        network: str = "bridge",
        startup_timeout: float = 30.0,
        port: int | None = None,
    ) -> None:
        self.image = image
        self.network = network
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._container: Any = None
        self.stale_removed = 0
        self.reaper = False

    @property
    def container_id(self) -> str | None:
        return self._container.get_container_id() if self._container is not None else None

    def start(self) -> ServerInfo:
        from testcontainers.community.valkey import ValkeyContainer  # noqa: PLC0415

        client = connect_engine()
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
                    "(`workshop doctor --pull`), or pass --image with a local image."
                ) from error
        self.reaper = _use_reaper_if_available(client)
        client.close()

        password = secrets.token_urlsafe(24)
        if self.network == "host":
            port = self._requested_port or free_loopback_port()
        else:
            port = CONTAINER_PORT
        server_args = ["--requirepass", password, "--save", "", "--appendonly", "no"]
        container = ValkeyContainer(self.image).with_password(password)
        labels = {LABEL: "1", LABEL_PID: str(os.getpid()), LABEL_HOST: socket.gethostname()}
        if self.network == "host":
            # docker-py refuses host mode with port bindings; the server binds loopback itself.
            container.ports.clear()
            container.with_command(
                ["valkey-server", "--port", str(port), "--bind", LOOPBACK, *server_args]
            )
            container.waiting_for(
                _ping_in_container(
                    ["valkey-cli", "-p", str(port), "-a", password, "--no-auth-warning", "ping"],
                    self._startup_timeout,
                )
            )
            container.with_kwargs(network_mode="host", labels=labels)
        else:
            # Published on 127.0.0.1 only: nothing is opened to the LAN.
            container.ports.clear()
            # docker-py reads a 1-tuple as "this host address, any free port".
            container.ports[f"{CONTAINER_PORT}/tcp"] = (LOOPBACK,)  # type: ignore[assignment] # testcontainers types host ports as int only
            container.with_command(["valkey-server", *server_args])
            container.waiting_for(
                _ping_in_container(
                    ["valkey-cli", "-a", password, "--no-auth-warning", "ping"],
                    self._startup_timeout,
                )
            )
            container.with_kwargs(labels=labels)
        self._container = container
        started = time.perf_counter()
        try:
            container.start()
        except Exception as error:
            logs = self._logs()
            self.stop()
            if "Address already in use" in logs:
                raise ServerError(f"Port {port} on {LOOPBACK} is already in use.") from error
            raise ServerError(
                f"The Valkey container ({self.image}) did not start: {_short(error)}"
                + (f"\nIts last log lines:\n{logs}" if logs else "")
            ) from error
        try:
            if self.network != "host":
                port = self._published_port(container)
            version = self._wait_ready(f"valkey://:{password}@{LOOPBACK}:{port}/0", started)
        except ServerError:
            self.stop()
            raise
        url = f"valkey://:{password}@{LOOPBACK}:{port}/0"
        where = "host network" if self.network == "host" else "port published on 127.0.0.1 only"
        return ServerInfo(
            backend=self.name,
            url=url,
            version=version,
            description=(
                f"Valkey {version} in a container ({self.image}) on {LOOPBACK}:{port}, "
                f"{where}, password protected"
            ),
        )

    def _published_port(self, container: Any) -> int:
        try:
            return int(container.get_exposed_port())
        except Exception as error:
            raise ServerError(
                "The Docker engine published no port for the container (an engine without a "
                "bridge network?). On Linux, try --docker-network host."
            ) from error

    def _wait_ready(self, url: str, started: float) -> str:
        while True:
            version = ping_version(url)
            if version is not None:
                return version
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
        wrapped = getattr(container, "_container", None) if container is not None else None
        if wrapped is None:
            return ""
        try:
            text = str(wrapped.logs(tail=lines).decode("utf-8", errors="replace")).strip()
        except Exception:  # noqa: BLE001 - the container may already be gone
            return ""
        return text

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):  # removing a container that is already gone
                container.stop()
