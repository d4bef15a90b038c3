"""A class: its id, where its server listens, its ACL users, and the join code.

The trainer's credentials live in ``class.json`` in the class folder (mode 0600). The join code
holds only what a learner needs to ask to join: host, port, TLS, class id and the password of the
class's *join* user, which the server's ACL limits to pushing a join request onto one list. At
join each learner gets a user of its own (``wsc-<class>-<learner>``) whose password only that
learner knows (the server holds its SHA-256); that user may only write the learner's own inbox
key. The class server process reads the inboxes, validates every event and appends it to the
class stream itself (see :mod:`.relay`).

Every user name carries the class id, so two classes on one server never share (or overwrite)
a user, and ``workshop class end`` removes exactly the class's users.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from valkey_workshop import naming
from valkey_workshop.errors import UsageError

CLASS_FILE = "class.json"
#: What ``class end`` keeps of the class in its folder: the final board, which ``class board
#: --json`` and ``class export`` read once the class's users are gone.
ENDED_FILE = "ended.json"
DEFAULT_CLASS_DIR = Path("workshop-class")
CLASS_DIR_ENV = "WORKSHOP_CLASS_DIR"
DEFAULT_LISTEN = "127.0.0.1:6390"
#: The join code's prefix says what it is and which format it has.
CODE_PREFIX = "wsj1-"
#: Every user of a class is named ``wsc-<class id>-<role or learner id>``.
USER_PREFIX = "wsc-"


def class_user(class_id: str, role: str) -> str:
    """The ACL user of ``role`` (trainer, join, admin, or a learner id) in class ``class_id``."""
    return f"{USER_PREFIX}{class_id}-{role}"


def class_keys(class_id: str) -> str:
    """The ACL key pattern of everything the class stores."""
    return f"workshop-class:{class_id}:*"


def events_key(class_id: str) -> str:
    """The class's event stream: only the class server process appends to it."""
    return f"workshop-class:{class_id}:events"


def joins_key(class_id: str) -> str:
    """The list of join requests: the join user may only RPUSH to it."""
    return f"workshop-class:{class_id}:joins"


def inbox_key(class_id: str, learner_id: str) -> str:
    """One learner's inbox: a batch of events, written by that learner's user only."""
    return f"workshop-class:{class_id}:inbox:{learner_id}"


def learners_key(class_id: str) -> str:
    """The class's roll: learner id -> its name and password hash (trainer's only)."""
    return f"workshop-class:{class_id}:learners"


def state_key(class_id: str) -> str:
    """The board's folded state, kept by the class server process (a board starts from it)."""
    return f"workshop-class:{class_id}:state"


def rejected_key(class_id: str) -> str:
    """How many events each learner sent that the class server refused (learner id -> count)."""
    return f"workshop-class:{class_id}:rejected"


def refusal_key(class_id: str, learner_id: str) -> str:
    """Why the class server refused a join request (``full``, ``taken``): the join user may
    read it, so ``join`` can say so; it expires after a minute."""
    return f"workshop-class:{class_id}:refused:{learner_id}"


def alive_key(class_id: str) -> str:
    """When the relay last made a pass (seconds since the epoch): the join user may read it,
    so a ``join`` that waits can tell a busy class server from none."""
    return f"workshop-class:{class_id}:alive"


def unstored_key(class_id: str) -> str:
    """How many learner events the relay could not append (the server refused the XADD);
    their batches stay in the inboxes and are tried again."""
    return f"workshop-class:{class_id}:unstored"


def announce_key(class_id: str) -> str:
    """A short text the trainer sets and learners may read."""
    return f"workshop-class:{class_id}:announce"


@dataclass(frozen=True)
class JoinCode:
    """What a learner needs to publish to a class, and nothing that grants more."""

    host: str
    port: int
    class_id: str
    password: str
    tls: bool = False

    def encode(self) -> str:
        data = {"h": self.host, "p": self.port, "c": self.class_id, "k": self.password}
        if self.tls:
            data["t"] = 1
        raw = json.dumps(data, separators=(",", ":")).encode()
        return CODE_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, code: str) -> JoinCode:
        """Raises UsageError for anything that is not a join code this version reads."""
        text = code.strip()
        if not text.startswith(CODE_PREFIX):
            raise UsageError(
                f"That is not a join code (they start with {CODE_PREFIX!r}); copy the whole "
                f"`{naming.program()} join ...` line the trainer shows."
            )
        body = text[len(CODE_PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            port = int(data["p"])
            code_ok = (
                isinstance(data["h"], str)
                and isinstance(data["c"], str)
                and isinstance(data["k"], str)
                and 0 < port < 65536
            )
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            code_ok = False
        if not code_ok:
            raise UsageError("That join code is damaged (cut short, or mistyped); copy it again.")
        return cls(data["h"], port, data["c"], data["k"], bool(data.get("t")))

    @property
    def join_user(self) -> str:
        return class_user(self.class_id, "join")


@dataclass(frozen=True)
class ClassConfig:
    """The trainer's side of a class (``class.json``)."""

    class_id: str
    listen_host: str
    port: int
    advertise_host: str
    trainer_password: str
    learner_password: str
    module: str
    started_at: float
    tls: bool = False
    #: An existing server's URL (``--url``) without its password, when the class does not
    #: run its own. The admin password is never written down (see :func:`admin_url_from`).
    url: str | None = None
    #: The class's own admin user, on a server the workshop started (its default user is off).
    admin_password: str = ""
    #: At most this many learners join (``class serve --max-learners``); more are refused.
    max_learners: int = 250

    @classmethod
    def new(cls, listen: str, advertise: str | None, module: str, started_at: float) -> ClassConfig:
        host, port = parse_listen(listen)
        if advertise is None and host in ("0.0.0.0", "::"):  # noqa: S104 - checked, not bound
            raise UsageError(
                f"--listen {listen} listens on every address; say which one learners reach with "
                "--advertise HOST (your laptop's address on the room's network)."
            )
        return cls(
            class_id=secrets.token_hex(4),
            listen_host=host,
            port=port,
            advertise_host=advertise or host,
            trainer_password=secrets.token_urlsafe(18),
            learner_password=secrets.token_urlsafe(18),
            module=module,
            started_at=started_at,
            admin_password=secrets.token_urlsafe(18),
        )

    def join_code(self) -> JoinCode:
        return JoinCode(
            self.advertise_host, self.port, self.class_id, self.learner_password, self.tls
        )

    def trainer_url(self) -> str:
        return self._url_as("trainer", self.trainer_password)

    def own_admin_url(self) -> str:
        """The class's admin user on a server the workshop started (not for ``--url``)."""
        return self._url_as("admin", self.admin_password)

    def _url_as(self, role: str, password: str) -> str:
        scheme = "valkeys" if self.tls else "valkey"
        host = "127.0.0.1" if self.listen_host in ("0.0.0.0", "::") else self.listen_host  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        user = class_user(self.class_id, role)
        return f"{scheme}://{user}:{quote(password, safe='')}@{host}:{self.port}/0"

    def save(self, folder: Path) -> Path:
        """Write ``class.json`` readable by its owner only."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / CLASS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        path.chmod(0o600)
        return path

    @classmethod
    def load(cls, folder: Path) -> ClassConfig | None:
        """The class in ``folder``, or None when there is none.

        Raises:
            UsageError: the file exists but is not a class file this version reads.
        """
        path = folder / CLASS_FILE
        if not path.is_file():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            config = cls(**data)
        except (OSError, ValueError, TypeError) as error:
            raise UsageError(f"{path} is not a class file ({error}).") from error
        if not config.admin_password and config.url is None:
            # A class file from before per-class users: give it its admin user now.
            config = replace(config, admin_password=secrets.token_urlsafe(18))
        return config


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:6390`` for IPv6) into its parts; a usage error otherwise."""
    host, sep, port_text = listen.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"--listen {listen!r}: give HOST:PORT, e.g. {DEFAULT_LISTEN}.")
    return host, int(port_text)


def class_dir(flag: Path | None) -> Path:
    """``--class-dir`` > ``$WORKSHOP_CLASS_DIR`` > ``./workshop-class``."""
    if flag is not None:
        return flag.expanduser()
    env = os.environ.get(CLASS_DIR_ENV)
    return Path(env).expanduser() if env else DEFAULT_CLASS_DIR


#: Where ``class serve --url`` and ``class end`` find the admin URL (never on the command line).
ADMIN_URL_ENV = "WORKSHOP_CLASS_ADMIN_URL"
#: Or the admin password alone, for a ``--url`` given without one.
ADMIN_PASSWORD_ENV = "WORKSHOP_CLASS_ADMIN_PASSWORD"  # noqa: S105 - a variable's name


def url_password(url: str) -> str | None:
    """The password a URL carries, or None."""
    return urlsplit(url).password


def without_password(url: str) -> str:
    """``url`` with its password removed (what ``class.json`` keeps)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, ""))


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` put in (for a URL given without one)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    user = quote(parts.username or "", safe="")
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
