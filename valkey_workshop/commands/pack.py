"""``workshop pack DIR``: everything a room needs to install the workshop with no network.

The pack holds, for each chosen platform and Python version, a wheel of every package the
workshop needs (at the versions installed here, which are the versions this machine tested),
the workshop's own wheel, the container image as a tar when Docker has it, and INSTALL.txt.
Learners then run ``pip install --no-index --find-links DIR valkey-workshop``.

pip evaluates environment markers (``sys_platform == 'win32'``) for the machine it runs on, not
for ``--platform``, so the dependency closure is computed here, per target, from the installed
packages' metadata; pip then only downloads pinned wheels (``--no-deps``).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from valkey_workshop import naming
from valkey_workshop.errors import UsageError, WorkshopError
from valkey_workshop.results.pack import PackResult, PackStep

DISTRIBUTION = "valkey-workshop"
_PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q")


@dataclass(frozen=True)
class Platform:
    """A kind of laptop: pip's platform tags and the marker values its Python reports."""

    name: str
    pip_tags: tuple[str, ...]
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    #: uv's ``--python-platform`` for this laptop (the fallback resolution, see ``refit``).
    uv_platform: str


PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in (
        Platform(
            "linux-x86_64",
            ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
            "linux",
            "Linux",
            "x86_64",
            "posix",
            "x86_64-manylinux_2_28",
        ),
        Platform(
            "linux-aarch64",
            ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
            "linux",
            "Linux",
            "aarch64",
            "posix",
            "aarch64-manylinux_2_28",
        ),
        Platform(
            "macos-arm64",
            ("macosx_11_0_arm64",),
            "darwin",
            "Darwin",
            "arm64",
            "posix",
            "aarch64-apple-darwin",
        ),
        Platform(
            "macos-x86_64",
            ("macosx_10_13_x86_64",),
            "darwin",
            "Darwin",
            "x86_64",
            "posix",
            "x86_64-apple-darwin",
        ),
        Platform(
            "windows-x86_64",
            ("win_amd64",),
            "win32",
            "Windows",
            "AMD64",
            "nt",
            "x86_64-pc-windows-msvc",
        ),
    )
}
#: Every laptop in a room: Linux VMs on Apple laptops are aarch64.
DEFAULT_PLATFORMS = tuple(PLATFORMS)
#: Every Python the dependencies publish wheels for (``requires-python`` is ``>=3.11``).
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
#: pip's words for a pinned version that has no wheel for the target.
NO_WHEEL = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)==")


def resolve_platforms(names: list[str] | None) -> tuple[Platform, ...]:
    """The named platforms (defaults when none); a usage error lists the known names."""
    chosen = names or list(DEFAULT_PLATFORMS)
    unknown = [name for name in chosen if name not in PLATFORMS]
    if unknown:
        raise UsageError(f"Unknown platform {unknown[0]!r}; choose from {', '.join(PLATFORMS)}.")
    return tuple(PLATFORMS[name] for name in dict.fromkeys(chosen))


def resolve_pythons(versions: list[str] | None) -> tuple[str, ...]:
    chosen = versions or list(DEFAULT_PYTHONS)
    for version in chosen:
        parts = version.split(".")
        if len(parts) != 2 or not all(part.isdigit() for part in parts) or parts[0] != "3":
            raise UsageError(f"--python {version!r}: give a version like 3.12.")
        if int(parts[1]) < 11:
            raise UsageError(f"--python {version}: the workshop needs Python 3.11 or newer.")
    return tuple(dict.fromkeys(chosen))


def closure(platform: Platform, python: str) -> list[str]:
    """Pinned requirements (``name==version``) the workshop needs on ``platform``/``python``.

    Versions are the ones installed here; a package installed only on other platforms
    (pywin32 on Windows) keeps its declared specifier.
    """
    environment = {
        "sys_platform": platform.sys_platform,
        "platform_system": platform.platform_system,
        "platform_machine": platform.platform_machine,
        "os_name": platform.os_name,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    pins: dict[str, str] = {}
    pending = [Requirement(text) for text in _requires(DISTRIBUTION)]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not _holds(requirement.marker, environment):
            continue
        name = canonicalize_name(requirement.name)
        if name in pins:
            continue
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            pins[name] = f"{requirement.name}{requirement.specifier}"
            continue
        pins[name] = f"{requirement.name}=={version}"
        pending.extend(Requirement(text) for text in _requires(requirement.name))
    return sorted(pins.values())


def _requires(distribution: str) -> list[str]:
    try:
        return importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return []


def _holds(marker: Marker, environment: dict[str, str]) -> bool:
    return bool(marker.evaluate(environment))


def pack(
    folder: Path,
    platforms: tuple[Platform, ...],
    pythons: tuple[str, ...],
    image: str | None,
) -> Iterator[PackStep | PackResult]:
    """Write the pack into ``folder``, yielding progress, then the :class:`PackResult`.

    Raises:
        UsageError: ``folder`` exists and is not an empty directory, or is a file.
        WorkshopError: a download failed (the message names the platform and pip's reason).
    """
    folder = folder.expanduser()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} exists and is not an empty folder; choose a new one.")
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)

    yield PackStep("building the valkey-workshop wheel")
    own = own_wheel(wheels)
    targets = []
    for platform in platforms:
        for python in pythons:
            requirements = closure(platform, python)
            yield PackStep(f"{platform.name}, Python {python}: {len(requirements)} packages")
            _download(wheels, platform, python, requirements)
            targets.append(f"{platform.name} / Python {python}")

    image_tar, image_note = None, "no image (--no-image)"
    if image is not None:
        yield PackStep(f"saving image {image}")
        image_tar, image_note = save_image(image, folder / "valkey-image.tar")
    install = folder / "INSTALL.txt"
    text = install_text(own.name, image_tar, image, platforms, pythons)
    install.write_text(text, encoding="utf-8")
    yield PackResult(
        folder=folder,
        wheels=tuple(sorted(wheels.iterdir())),
        image_tar=image_tar,
        image_note=image_note,
        install_text=install,
        targets=tuple(targets),
        summary=targets_summary(platforms, pythons),
    )


def _download(folder: Path, platform: Platform, python: str, requirements: list[str]) -> None:
    """Download the pinned wheels for one target. A version installed here that has no wheel
    for the target (an older wrapt on a newer Python) is re-resolved for that target by uv,
    preferring every version installed here; without uv the message says what to do."""
    result = pip_download(folder, platform, python, requirements)
    unfit = NO_WHEEL.search(result.stderr)
    if result.returncode != 0 and unfit is not None:
        uv = find_uv()
        if uv is None:
            raise WorkshopError(
                f"Cannot download wheels for {platform.name}, Python {python}: "
                f"{unfit.group(1)} as installed here has no wheel for it. Upgrade it here "
                f"(pip install -U {unfit.group(1)}), or install uv (pip install uv) so that "
                "pack picks a version that has one."
            )
        requirements = refit(uv, platform, python, requirements)
        result = pip_download(folder, platform, python, requirements)
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        reason = "; ".join(errors[-2:]) or result.stderr.strip()[-300:]
        raise WorkshopError(
            f"Cannot download wheels for {platform.name}, Python {python}: {reason}"
        )


def pip_download(
    folder: Path, platform: Platform, python: str, requirements: list[str]
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    for tag in platform.pip_tags:
        command += ["--platform", tag]
    command += ["--python-version", python, "--implementation", "cp", "-d", str(folder)]
    return subprocess.run([*command, *requirements], capture_output=True, text=True, check=False)


def find_uv() -> str | None:
    """uv beside this Python (the ``uv`` package installs it there), else on PATH."""
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def refit(uv: str, platform: Platform, python: str, preferred: list[str]) -> list[str]:
    """The workshop's requirements resolved by uv for ``platform``/``python`` with binary
    wheels only, keeping each ``preferred`` pin that has a wheel there (uv prefers the pins
    already in its output file). Uses the package indexes pip is configured with.

    Raises:
        WorkshopError: uv found no set of wheels (its reason is in the message).
    """
    with tempfile.TemporaryDirectory(prefix="workshop-pack-") as scratch:
        wanted = Path(scratch) / "requirements.in"
        wanted.write_text("\n".join(_requires(DISTRIBUTION)) + "\n", encoding="utf-8")
        pinned = Path(scratch) / "requirements.txt"
        pinned.write_text("\n".join(p for p in preferred if "==" in p) + "\n", encoding="utf-8")
        command = [
            uv, "pip", "compile", str(wanted), "-o", str(pinned), "--quiet", "--no-header",
            "--no-annotate", "--only-binary", ":all:", "--python-platform", platform.uv_platform,
            "--python-version", python, *pip_index_arguments(),
        ]  # fmt: skip
        environment = {**os.environ, "UV_NO_CONFIG": "1"}
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=environment
        )
        if result.returncode != 0:
            raise WorkshopError(
                f"Cannot resolve wheels for {platform.name}, Python {python}: "
                + (result.stderr.strip()[-300:] or "uv failed")
            )
        lines = pinned.read_text(encoding="utf-8").splitlines()
    return [line.split(";")[0].strip() for line in lines if line and not line.startswith("#")]


def pip_index_arguments() -> list[str]:
    """uv's flags for the package indexes pip is configured with (``pip config``: index-url,
    extra-index-url, find-links), so both look in the same places; uv reads no pip.conf."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    flags: list[str] = []
    seen: set[tuple[str, str]] = set()
    for line in listed.stdout.splitlines():
        key, _, value = line.partition("=")
        option = key.rsplit(".", 1)[-1]
        if option not in {"index-url", "extra-index-url", "find-links"}:
            continue
        for item in value.strip().strip("'\"").split():
            if (option, item) not in seen:
                seen.add((option, item))
                flags += [f"--{option}", item]
    if any(flag == "--extra-index-url" for flag in flags) or flags.count("--index-url") > 0:
        # pip takes the best version from every index; uv by default stops at the first
        # index that has the package (a local mirror without the target's wheels).
        flags += ["--index-strategy", "unsafe-best-match"]
    return flags


def own_wheel(folder: Path) -> Path:
    """The workshop's own wheel: built from its source tree when it runs from one (a checkout
    or an editable install), else rebuilt from the installed files.

    Raises:
        WorkshopError: the build failed, or the installed files are not a wheel install.
    """
    source = Path(__file__).resolve().parents[2]
    if (source / "pyproject.toml").is_file() and (source / "labs").is_dir():
        return build_source_wheel(source, folder)
    distribution = importlib.metadata.distribution(DISTRIBUTION)
    if distribution.read_text("WHEEL") is None:
        raise WorkshopError(
            "valkey-workshop was not installed from a wheel or a source tree; "
            "run `workshop pack` from a checkout."
        )
    return _rebuild_wheel(distribution, folder)


#: What a wheel build never needs from a source tree (and what a build in it would leave).
_NOT_BUILD_INPUT = (
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "workshop-labs",
)


def build_source_wheel(source: Path, folder: Path) -> Path:
    """The wheel of the source tree ``source``, written to ``folder``. It is built in a
    private copy of the tree: setuptools writes ``build/`` and ``*.egg-info`` into the tree it
    builds, and two builds of one tree at once (two ``pack`` runs, parallel tests) break each
    other's (``[Errno 2]`` in ``build/``).

    Raises:
        WorkshopError: the build failed.
    """
    with tempfile.TemporaryDirectory(prefix="workshop-wheel-build-") as scratch:
        tree = Path(scratch) / "source"
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns(*_NOT_BUILD_INPUT))
        result = subprocess.run(
            [*_PIP_WHEEL, "-w", str(folder), str(tree)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise WorkshopError(f"Cannot build the workshop wheel from {source}: {result.stderr}")
    (built,) = folder.glob("valkey_workshop-*.whl")
    return built


def _rebuild_wheel(distribution: importlib.metadata.Distribution, folder: Path) -> Path:
    """A wheel of an installed (non-editable) distribution, from its RECORD."""
    name = distribution.metadata["Name"].replace("-", "_")
    version = distribution.version
    target = folder / f"{name}-{version}-py3-none-any.whl"
    files = [
        file
        for file in distribution.files or []
        if not str(file).startswith("..") and "__pycache__" not in file.parts
    ]
    dist_info = f"{name}-{version}.dist-info"
    record_lines = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            arcname = str(file).replace("\\", "/")
            if arcname.endswith((".dist-info/RECORD", "direct_url.json", "INSTALLER", "REQUESTED")):
                continue
            data = Path(str(file.locate())).read_bytes()
            archive.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record_lines.append(f"{arcname},sha256={digest.decode()},{len(data)}")
        record_lines.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record_lines) + "\n")
    return target


def save_image(image: str, target: Path) -> tuple[Path | None, str]:
    """``docker save`` of ``image`` when a local engine has it; else why not."""
    from valkey_workshop.server import docker  # noqa: PLC0415 - docker-py only when packing

    try:
        engine = docker.connect_engine(timeout=2.0)
    except docker.EngineUnavailableError as error:
        return None, f"no image: {error.short}"
    try:
        try:
            found = engine.images.get(image)
        except Exception as error:  # noqa: BLE001 - docker-py's ImageNotFound and API errors
            return None, f"no image: {image} is not on this machine ({type(error).__name__})"
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as partial:
            for chunk in found.save(named=True):
                partial.write(chunk)
        Path(partial.name).replace(target)
    finally:
        engine.close()
    return target, f"image {image} saved"


def targets_summary(platforms: tuple[Platform, ...], pythons: tuple[str, ...]) -> str:
    """One short line for every target: ``Python 3.11-3.14 on linux-x86_64, macos-arm64``."""
    ordered = sorted(pythons, key=lambda version: tuple(int(part) for part in version.split(".")))
    minors = [int(version.split(".")[1]) for version in ordered]
    consecutive = minors == list(range(minors[0], minors[0] + len(minors)))
    versions = (
        f"{ordered[0]}-{ordered[-1]}" if consecutive and len(ordered) > 2 else ", ".join(ordered)
    )
    return f"Python {versions} on {', '.join(platform.name for platform in platforms)}"


def install_text(
    wheel_name: str,
    image_tar: Path | None,
    image: str | None,
    platforms: tuple[Platform, ...],
    pythons: tuple[str, ...],
) -> str:
    """INSTALL.txt: what a learner types, with no network. The virtual environment goes in
    the learner's home folder, never into the pack (a USB stick: slow, shared, and often
    without the symlinks a venv needs)."""
    lines = [
        "valkey-workshop: offline install",
        "",
        *textwrap.wrap(f"Packed for {targets_summary(platforms, pythons)}.", 78),
        "",
        "1. Make a virtual environment in your home folder (not in this folder):",
        "     python3 -m venv ~/valkey-workshop-venv               (Linux, macOS)",
        "     . ~/valkey-workshop-venv/bin/activate",
        "     py -m venv $HOME\\valkey-workshop-venv                (Windows PowerShell)",
        "     $HOME\\valkey-workshop-venv\\Scripts\\Activate.ps1",
        "2. In this folder, install with no network:",
        "     pip install --no-index --find-links wheels valkey-workshop",
        f"   (the workshop itself is wheels/{wheel_name})",
        "3. Check the laptop:  workshop doctor",
    ]
    if image_tar is not None:
        lines += [
            "4. With Docker: load the Valkey image, then the workshop can use it:",
            f"     docker load -i {image_tar.name}",
            f"     workshop start {naming.example_module()} --backend docker --image {image}",
        ]
    lines += [
        "",
        "Without Docker the workshop starts its embedded Valkey (Linux, macOS), or a",
        "valkey-server found on PATH (--backend local), or a server you name with --url.",
        "",
    ]
    return "\n".join(lines)
