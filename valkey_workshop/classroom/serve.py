"""``workshop class serve``: the class server, with ACL users and no default user.

The trainer's own server (embedded or local) keeps its data in the class folder (append-only
file, fsync on every write), so a class server stopped and started again has every event it
had. ACL users are set on every start, from ``class.json``:

- ``trainer``: every command on the class's keys (``workshop-class:<id>:*``), nothing dangerous;
- ``learner``: ``XADD`` to the class's event stream and ``GET`` of its announcement, nothing
  else: no reads of other learners' events, no CONFIG, no FLUSH*, no KEYS;
- ``default``: off, on a server the workshop started. On an existing server (``--url``) the
  default user is the owner's and stays as it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import valkey
from filelock import FileLock, Timeout

from valkey_workshop import naming
from valkey_workshop.classroom.config import (
    LEARNER_USER,
    TRAINER_USER,
    ClassConfig,
    announce_key,
    events_key,
    parse_listen,
)
from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend, ServerInfo, redact_url
from valkey_workshop.server.embedded import LOOPBACK, EmbeddedBackend
from valkey_workshop.server.local import LocalBackend
from valkey_workshop.server.url import UrlBackend

CLASS_BACKENDS = ("embedded", "local", "docker", "url")
#: Held while a class folder is served (one class server per folder).
SERVE_LOCK = ".serve.lock"


@dataclass(frozen=True)
class ServedClass:
    """A running class server, as ``class serve`` reports it."""

    config: ClassConfig
    folder: Path
    server: ServerInfo
    resumed: bool
    warnings: tuple[str, ...]

    @property
    def join_line(self) -> str:
        return f"{naming.program()} join {self.config.join_code().encode()} --name YOUR-NAME"


def learner_acl(class_id: str, password: str) -> list[str]:
    """The learner user's rules: append to the stream, read the announcement, nothing else."""
    return [
        "reset",
        "on",
        f">{password}",
        "resetchannels",
        f"%W~{events_key(class_id)}",
        f"%R~{announce_key(class_id)}",
        "-@all",
        "+xadd",
        "+get",
        "+ping",
        "+hello",
        "+client|setinfo",
        "+client|setname",
    ]


def trainer_acl(class_id: str, password: str) -> list[str]:
    """The trainer user's rules: every command on the class's keys, nothing dangerous."""
    return [
        "reset",
        "on",
        f">{password}",
        "resetchannels",
        f"~workshop-class:{class_id}:*",
        "+@all",
        "-@dangerous",
        "+info",
    ]


def apply_acl(admin: valkey.Valkey, config: ClassConfig, disable_default: bool) -> None:
    """Create (or reset) the class's users on the server ``admin`` is connected to."""
    try:
        admin.execute_command(
            "ACL", "SETUSER", TRAINER_USER, *trainer_acl(config.class_id, config.trainer_password)
        )
        admin.execute_command(
            "ACL", "SETUSER", LEARNER_USER, *learner_acl(config.class_id, config.learner_password)
        )
        if disable_default:
            admin.execute_command("ACL", "SETUSER", "default", "off")
    except valkey.ResponseError as error:
        raise ServerError(
            f"The class server refused to set up its users ({error}); it needs ACL users "
            "(Valkey 7.2 or newer) and a URL whose user may run ACL SETUSER."
        ) from error


def _backend(
    config: ClassConfig,
    folder: Path,
    backend: str,
    image: str | None = None,
    network: str | None = None,
) -> ServerBackend:
    if backend == "url":
        assert config.url is not None
        return UrlBackend(config.url)
    data = folder / "data"
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    data.chmod(0o700)
    if backend == "docker":
        from valkey_workshop.server.docker import (  # noqa: PLC0415 - docker-py only when used
            DockerBackend,
            resolve_image,
            resolve_network,
        )

        return DockerBackend(
            resolve_image(image),
            resolve_network(network),
            port=config.port,
            bind=config.listen_host,
            data_dir=data.resolve(),
        )
    kind = LocalBackend if backend == "local" else EmbeddedBackend
    return kind(port=config.port, bind=config.listen_host, data_dir=data.resolve())


@contextmanager
def serve_class(
    folder: Path,
    *,
    listen: str | None,
    advertise: str | None,
    module: str,
    backend: str = "embedded",
    url: str | None = None,
    image: str | None = None,
    network: str | None = None,
) -> Iterator[ServedClass]:
    """Start (or resume) the class in ``folder`` and keep its server up for the block.

    The first start creates ``class.json`` (a new class id and passwords); later starts with
    the same folder resume that class: same id, passwords, port and events.

    Raises:
        UsageError: a bad ``--listen``/``--backend``, or a class file that cannot be read.
        ServerError: the server cannot be started, reached or given its users.
    """
    if backend not in CLASS_BACKENDS:
        raise UsageError(f"A class server runs on {', '.join(CLASS_BACKENDS)}, not {backend!r}.")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # names and results of the class: its trainer's only
    # One class server per class folder: a second one would rewrite class.json and leave
    # the board and the presenter pointing at a server that is not the class's.
    lock = FileLock(str(folder / SERVE_LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UsageError(
            f"{folder} is already being served by another `{naming.program()} class serve`; "
            "stop that one first, or give another --class-dir for a new class."
        ) from None
    try:
        with _serve(folder, listen, advertise, module, backend, url, image, network) as served:
            yield served
    finally:
        lock.release()


@contextmanager
def _serve(
    folder: Path,
    listen: str | None,
    advertise: str | None,
    module: str,
    backend: str,
    url: str | None,
    image: str | None,
    network: str | None,
) -> Iterator[ServedClass]:
    existing = ClassConfig.load(folder)
    if existing is None:
        config = ClassConfig.new(listen or "127.0.0.1:6390", advertise, module, time.time())
    else:
        config = existing
        if listen is not None:
            host, port = parse_listen(listen)
            config = replace(config, listen_host=host, port=port, advertise_host=advertise or host)
        elif advertise is not None:
            config = replace(config, advertise_host=advertise)
    if backend == "url":
        if url is None:
            raise UsageError("class serve --backend url needs --url (an admin URL).")
        config = replace(config, url=url, tls=url.startswith(("valkeys://", "rediss://")))
        parts = urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        config = replace(
            config,
            listen_host=host,
            port=parts.port or 6379,
            advertise_host=advertise or host,
        )
    config_path = config.save(folder)

    server = _backend(config, folder, backend, image, network)
    with server as info:
        admin = valkey.Valkey.from_url(info.url, socket_timeout=5)
        try:
            apply_acl(admin, config, disable_default=backend != "url")
        finally:
            admin.close()
        trainer = ServerInfo(
            backend=info.backend,
            url=config.trainer_url() if backend != "url" else _with_user(config),
            version=info.version,
            description=info.description,
        )
        warnings = []
        if config.listen_host not in (LOOPBACK, "localhost", "::1") and not config.tls:
            warnings.append(
                f"The class server listens on {config.listen_host}:{config.port}: reachable "
                "from the room's network, in plaintext (no TLS). Learners' passwords and "
                "check results cross it readable; use --url valkeys://... for TLS."
            )
        warnings.append(f"Trainer credentials: {config_path} (mode 0600).")
        yield ServedClass(config, folder, trainer, existing is not None, tuple(warnings))


def _with_user(config: ClassConfig) -> str:
    """The trainer's URL on an existing server: its address with the trainer user."""
    assert config.url is not None
    scheme = config.url.split("://", 1)[0]
    host = f"[{config.listen_host}]" if ":" in config.listen_host else config.listen_host
    return f"{scheme}://{TRAINER_USER}:{config.trainer_password}@{host}:{config.port}/0"


def describe(served: ServedClass) -> str:
    """One line: where the class server is and for which module."""
    return (
        f"Class {served.config.class_id} ({served.config.module}) on "
        f"{served.config.advertise_host}:{served.config.port}: {redact_url(served.server.url)}"
    )
