"""``workshop --version`` / ``-V``: the installed version, in the console script itself."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from valkey_workshop import __version__
from valkey_workshop.version import workshop_version


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_installed_version(flag: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "valkey_workshop", flag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"workshop {importlib.metadata.version('valkey-workshop')}\n"
    assert done.stderr == ""


def test_the_version_falls_back_to_the_package_when_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("valkey_workshop.version.DISTRIBUTION", "valkey-workshop-not-installed")
    assert workshop_version() == __version__
