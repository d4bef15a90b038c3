"""``workshop class serve``: the class server, with per-class ACL users and no default user,
and the relay that is the only writer of the class stream.

The trainer's own server (embedded or local) keeps its data in the class folder (append-only
file, fsync on every write), so a class server stopped and started again has every event it
had. Its memory is capped (``maxmemory`` :data:`MAXMEMORY`, no eviction; one argument at most
1 MB). ACL users are set on every start, from ``class.json`` and the class's roll; every name
carries the class id (``wsc-<id>-...``):

- ``wsc-<id>-trainer``: every command on the class's keys (``workshop-class:<id>:*``), nothing
  dangerous;
- ``wsc-<id>-join`` (its password is in the join code): ``RPUSH`` to the join list, nothing
  else;
- ``wsc-<id>-<learner>``: one per learner, created by the relay at join: ``SET`` of its own
  inbox key and ``GET`` of the announcement, nothing else;
- ``wsc-<id>-admin``: the class process's own admin, on a server the workshop started;
- ``default``: off, on a server the workshop started. On an existing server (``--url``) the
  default user is the owner's and stays as it is, no user that exists is overwritten, and
  ``workshop class end`` removes the class's users.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import valkey
from filelock import FileLock, Timeout

from valkey_workshop import naming
from valkey_workshop.classroom.board import ClassBoard
from valkey_workshop.classroom.config import (
    ENDED_FILE,
    ClassConfig,
    alive_key,
    announce_key,
    class_keys,
    class_user,
    events_key,
    joins_key,
    parse_listen,
    refusal_key,
    url_password,
    with_password,
    without_password,
)
from valkey_workshop.classroom.relay import MAX_LEARNERS_LIMIT, Relay
from valkey_workshop.content.loader import load_module
from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerBackend, ServerInfo, redact_url
from valkey_workshop.server.embedded import LOOPBACK, EmbeddedBackend
from valkey_workshop.server.local import LocalBackend
from valkey_workshop.server.url import UrlBackend

CLASS_BACKENDS = ("embedded", "local", "docker", "url")
#: Held while a class folder is served (one class server per folder).
SERVE_LOCK = ".serve.lock"
#: The memory cap of a class server the workshop starts (a 200-learner class uses a few MB;
#: the worst anyone with the join code can make it hold is about 380 MB: the budget is in
#: :mod:`.relay`).
MAXMEMORY = "512mb"

_CAPS = (
    ("maxmemory", MAXMEMORY),
    ("maxmemory-policy", "noeviction"),
    ("proto-max-bulk-len", "1mb"),
)


@dataclass(frozen=True)
class ServedClass:
    """A running class server, as ``class serve`` reports it."""

    config: ClassConfig
    folder: Path
    server: ServerInfo
    resumed: bool
    warnings: tuple[str, ...]
    relay: Relay

    @property
    def join_line(self) -> str:
        return f"{naming.program()} join {self.config.join_code().encode()} --name YOUR-NAME"


def join_acl(class_id: str, password: str) -> list[str]:
    """The join user's rules (its password is in the join code): push join requests only."""
    return [
        "reset",
        "on",
        f">{password}",
        "resetchannels",
        f"%W~{joins_key(class_id)}",
        f"%R~{refusal_key(class_id, '*')}",
        f"%R~{alive_key(class_id)}",
        "-@all",
        "+rpush",
        "+get",
        "+mget",
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
        f"~{class_keys(class_id)}",
        "+@all",
        "-@dangerous",
        "+info",
    ]


def admin_acl(password: str) -> list[str]:
    """The class process's own admin, on a server the workshop started and owns."""
    return ["reset", "on", f">{password}", "~*", "&*", "+@all"]


def apply_acl(admin: valkey.Valkey, config: ClassConfig, own_server: bool, new: bool) -> None:
    """Create (or reset) the class's users on the server ``admin`` is connected to.

    On a server that is not the workshop's (``own_server`` false) a new class never
    overwrites a user that exists.
    """
    users = {
        "trainer": trainer_acl(config.class_id, config.trainer_password),
        "join": join_acl(config.class_id, config.learner_password),
    }
    if own_server:
        users["admin"] = admin_acl(config.admin_password)
    try:
        if new and not own_server:
            taken = [
                class_user(config.class_id, role)
                for role in users
                if admin.execute_command("ACL", "GETUSER", class_user(config.class_id, role))
            ]
            if taken:
                raise ServerError(
                    f"The server already has a user {taken[0]}; a class never overwrites a "
                    "user. Start the class with another --class-dir (a new class id)."
                )
        for role, rules in users.items():
            admin.execute_command("ACL", "SETUSER", class_user(config.class_id, role), *rules)
        if own_server:
            admin.execute_command("ACL", "SETUSER", "default", "off")
    except valkey.ResponseError as error:
        raise ServerError(
            f"The class server refused to set up its users ({error}); it needs ACL users "
            "(Valkey 7.2 or newer) and a URL whose user may run ACL SETUSER."
        ) from error


def cap_memory(admin: valkey.Valkey) -> None:
    """Cap a server the workshop started: no learner can grow it past :data:`MAXMEMORY`."""
    for name, value in _CAPS:
        admin.config_set(name, value)


def _backend(
    config: ClassConfig,
    folder: Path,
    backend: str,
    image: str | None = None,
    network: str | None = None,
    admin_url: str | None = None,
) -> ServerBackend:
    if backend == "url":
        assert admin_url is not None
        return UrlBackend(admin_url)
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
    max_learners: int | None = None,
) -> Iterator[ServedClass]:
    """Start (or resume) the class in ``folder`` and keep its server up for the block.
    ``max_learners`` (at most :data:`.relay.MAX_LEARNERS_LIMIT`) is the class's seats; a
    resumed class keeps its own unless given.

    The first start creates ``class.json`` (a new class id and passwords); later starts with
    the same folder resume that class: same id, passwords, port and events.

    Raises:
        UsageError: a bad ``--listen``/``--backend``, or a class file that cannot be read.
        ServerError: the server cannot be started, reached or given its users.
    """
    if backend not in CLASS_BACKENDS:
        raise UsageError(f"A class server runs on {', '.join(CLASS_BACKENDS)}, not {backend!r}.")
    if max_learners is not None and not 1 <= max_learners <= MAX_LEARNERS_LIMIT:
        raise UsageError(
            f"--max-learners {max_learners}: give 1 to {MAX_LEARNERS_LIMIT} (the class "
            "server's memory budget is sized for that many)."
        )
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
        with _serve(
            folder, listen, advertise, module, backend, url, image, network, max_learners
        ) as served:
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
    max_learners: int | None,
) -> Iterator[ServedClass]:
    existing = ClassConfig.load(folder)
    config = _class_config(existing, listen, advertise, module, backend, url)
    if max_learners is not None:
        config = replace(config, max_learners=max_learners)
    config_path = config.save(folder)
    (folder / ENDED_FILE).unlink(missing_ok=True)  # served again: the class goes on
    own_server = backend != "url"
    class_module = load_module(config.module)

    server = _backend(config, folder, backend, image, network, admin_url=url)
    with server as info:
        admin = valkey.Valkey.from_url(info.url, socket_timeout=5)
        try:
            apply_acl(admin, config, own_server=own_server, new=existing is None)
            if own_server:
                cap_memory(admin)
        except valkey.ValkeyError as error:
            raise ServerError(f"The class server cannot be set up ({error}).") from error
        finally:
            admin.close()
        relay_url = config.own_admin_url() if own_server else info.url
        relay = Relay(
            config, class_module, lambda: valkey.Valkey.from_url(relay_url, socket_timeout=5)
        )
        try:
            relay.restore()
        except valkey.ValkeyError as error:
            relay.stop()
            raise ServerError(f"The class server cannot be set up ({error}).") from error
        relay.start()
        trainer = ServerInfo(
            backend=info.backend,
            url=config.trainer_url(),
            version=info.version,
            description=info.description,
        )
        warnings = _warnings(config, own_server, config_path)
        try:
            yield ServedClass(config, folder, trainer, existing is not None, warnings, relay)
        finally:
            relay.stop()


def _class_config(
    existing: ClassConfig | None,
    listen: str | None,
    advertise: str | None,
    module: str,
    backend: str,
    url: str | None,
) -> ClassConfig:
    """A new class, or the one in the folder with this start's address (and URL)."""
    if existing is None:
        config = ClassConfig.new(listen or "127.0.0.1:6390", advertise, module, time.time())
    else:
        config = existing
        if listen is not None:
            host, port = parse_listen(listen)
            config = replace(config, listen_host=host, port=port, advertise_host=advertise or host)
        elif advertise is not None:
            config = replace(config, advertise_host=advertise)
    if backend != "url":
        return config
    if url is None:
        raise UsageError("class serve --backend url needs an admin URL.")
    if url_password(url) is None:
        raise UsageError("The admin URL of class serve needs its password.")
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return replace(
        config,
        url=without_password(url),
        tls=url.startswith(("valkeys://", "rediss://")),
        listen_host=host,
        port=parts.port or 6379,
        advertise_host=advertise or host,
        admin_password="",
    )


def _warnings(config: ClassConfig, own_server: bool, config_path: Path) -> tuple[str, ...]:
    warnings = []
    if config.listen_host not in (LOOPBACK, "localhost", "::1") and not config.tls:
        warnings.append(
            f"The class server listens on {config.listen_host}:{config.port}: reachable "
            "from the room's network, in plaintext (no TLS). Learners' passwords and "
            "check results cross it readable; use --url valkeys://... for TLS."
        )
    if own_server:
        warnings.append(
            f"Memory cap: maxmemory {MAXMEMORY} (no eviction); {config.max_learners} seats "
            "(--max-learners)."
        )
    else:
        warnings.append(
            f"The class's users (wsc-{config.class_id}-*) stay on that server until "
            "`workshop class end`; its memory cap is its owner's."
        )
    warnings.append(f"Trainer credentials: {config_path} (mode 0600).")
    return tuple(warnings)


@dataclass(frozen=True)
class EndedClass:
    users: int
    keys: int
    #: Where the final board is kept (``class board --json`` and ``class export`` read it).
    record: Path | None = None


def _keep_final_board(folder: Path, config: ClassConfig, client: valkey.Valkey) -> Path:
    """Write the class's board as it ends into its folder (mode 0600), for ``class board
    --json`` and ``class export`` once the trainer's user is gone."""
    board = ClassBoard(config, load_module(config.module))
    board.refresh(client)
    path = folder / ENDED_FILE
    temporary = folder / f".{ENDED_FILE}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(board.dump_final(time.time()))
    temporary.replace(path)
    return path


def end_class(folder: Path, admin_url: str | None) -> EndedClass:
    """Remove the class's users and its working keys (joins, inboxes, roll) from its server;
    the event stream and the announcement stay (the class's record).

    ``admin_url`` is the ``--url`` server's admin URL; a class on the workshop's own server
    uses its own admin user (and its server must still run for there to be anything to end).

    Raises:
        UsageError: no class in ``folder``, or a ``--url`` class without its admin URL.
        ServerError: the server cannot be reached or refuses.
    """
    config = ClassConfig.load(folder)
    if config is None:
        raise UsageError(f"No class in {folder}.")
    if config.url is not None:
        if admin_url is None:
            raise UsageError(
                "This class runs on an existing server: give its admin URL in "
                "$WORKSHOP_CLASS_ADMIN_URL (or its password in "
                "$WORKSHOP_CLASS_ADMIN_PASSWORD); never on the command line."
            )
        url = admin_url if url_password(admin_url) else with_password(config.url, admin_url)
    else:
        url = config.own_admin_url()
    client = valkey.Valkey.from_url(
        url, socket_timeout=5, socket_connect_timeout=3, decode_responses=True
    )
    prefix = class_user(config.class_id, "")
    kept = {events_key(config.class_id), announce_key(config.class_id)}
    try:
        record = _keep_final_board(folder, config, client)
        users = [
            name
            for name in (str(u) for u in client.execute_command("ACL", "USERS"))
            if name.startswith(prefix) and not name.endswith("-admin")
        ]
        keys = [
            key for key in client.scan_iter(match=class_keys(config.class_id)) if key not in kept
        ]
        for name in users:
            client.execute_command("ACL", "DELUSER", name)
        if keys:
            client.delete(*keys)
        if config.url is None:
            client.execute_command("ACL", "DELUSER", class_user(config.class_id, "admin"))
    except (valkey.ConnectionError, valkey.TimeoutError) as error:
        raise ServerError(f"The class server is not answering ({error}).") from error
    except valkey.ValkeyError as error:
        raise ServerError(f"The class server refused to end the class ({error}).") from error
    finally:
        client.close()
    return EndedClass(len(users), len(keys), record)


def describe(served: ServedClass) -> str:
    """One line: where the class server is and for which module."""
    return (
        f"Class {served.config.class_id} ({served.config.module}) on "
        f"{served.config.advertise_host}:{served.config.port}: {redact_url(served.server.url)}"
    )
