"""Which backend a command uses, and why: flag > environment > auto-detect."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from valkey_workshop.errors import UsageError
from valkey_workshop.server.base import ServerBackend
from valkey_workshop.server.embedded import EmbeddedBackend
from valkey_workshop.server.url import UrlBackend

BACKENDS = ("auto", "docker", "embedded", "url")
BACKEND_ENV = "WORKSHOP_BACKEND"
URL_ENV = "VALKEY_URL"


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
) -> BackendChoice:
    """Resolve: ``--backend`` > ``--url`` > ``WORKSHOP_BACKEND`` > ``VALKEY_URL`` > auto.

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
    return _auto()


def _known(name: str, source: str) -> str:
    value = name.strip().lower()
    if value not in BACKENDS:
        raise UsageError(
            f"Unknown backend {name!r} from {source}; choose one of {', '.join(BACKENDS)}."
        )
    return value


def _auto() -> BackendChoice:
    # The Docker backend is the design's default; until it exists auto means embedded.
    return BackendChoice("embedded", "auto: the Docker backend is not available in this version")


def open_backend(choice: BackendChoice, image: str | None = None) -> ServerBackend:
    """The backend object for a choice; use it as a context manager."""
    if choice.name == "embedded":
        return EmbeddedBackend()
    if choice.name == "url":
        assert choice.url is not None
        return UrlBackend(choice.url)
    raise UsageError(f"The {choice.name} backend is not available in this version.")
