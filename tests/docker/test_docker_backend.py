"""The docker backend with a real engine and a real container (host networking, loopback)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import valkey
from docker.errors import NotFound
from typer.testing import CliRunner

from tests.conftest import wait_until, worker_pids
from valkey_workshop.cli.app import app
from valkey_workshop.content import load_module
from valkey_workshop.errors import ServerError
from valkey_workshop.server import docker as docker_backend
from valkey_workshop.server.docker import LABEL, LABEL_HOST, LABEL_PID, DockerBackend
from valkey_workshop.server.embedded import free_loopback_port
from valkey_workshop.server.resolve import choose_backend

pytestmark = pytest.mark.docker
runner = CliRunner()


def workshop_containers(engine: Any, pid: int | None = None) -> list[str]:
    """Ids of the workshop containers (any state) that the process ``pid`` (default: this
    test process) owns. Only those: other workshop processes on the machine have their own."""
    owner = os.getpid() if pid is None else pid
    found = engine.api.containers(all=True, filters={"label": f"{LABEL_PID}={owner}"})
    return [str(entry["Id"]) for entry in found]


@pytest.mark.usefixtures("unrelated_container")
def test_check_passes_a_correct_answer_and_removes_the_container(
    engine: Any, image: str, hermetic: Path
) -> None:
    exercise = hermetic / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    shutil.copyfile(load_module("module3").step("cache-aside").solution, exercise)
    result = runner.invoke(
        app,
        [
            "check",
            "module3",
            "cache-aside",
            "--backend",
            "docker",
            "--docker-network",
            "host",
            "--image",
            image,
            "--workdir",
            str(hermetic),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "in a container (localhost/valkey-workshop-ci:8.1.8)" in result.stderr
    assert '"backend": "docker"' in result.stdout
    assert '"server_version": "8.1.8"' in result.stdout
    assert workshop_containers(engine) == []


@pytest.mark.usefixtures("unrelated_container")
def test_server_is_loopback_only_and_refuses_clients_without_the_password(
    engine: Any, image: str
) -> None:
    backend = DockerBackend(image, network="host")
    with backend as info:
        port = int(info.url.rsplit(":", 1)[1].split("/")[0])
        container = engine.containers.get(backend.container_id)
        assert container.labels[LABEL_PID] == str(os.getpid())
        anonymous = valkey.Valkey(host="127.0.0.1", port=port, socket_timeout=2)
        with pytest.raises(valkey.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        client = valkey.Valkey.from_url(info.url, decode_responses=True)
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("save")["save"] == ""
        client.close()
    assert workshop_containers(engine) == []


@pytest.mark.usefixtures("unrelated_container")
def test_sigint_to_the_cli_removes_the_container(engine: Any, image: str, hermetic: Path) -> None:
    exercise = hermetic / "module3" / "02_cache_aside.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text("CACHE_TTL_SECONDS = 300\nwhile True:\n    pass\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "valkey_workshop",
            "check",
            "module3",
            "cache-aside",
            "--backend",
            "docker",
            "--docker-network",
            "host",
            "--image",
            image,
        ],
        env={**os.environ, "WORKSHOP_WORKDIR": str(hermetic)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_until(
        lambda: workshop_containers(engine, process.pid),
        "no container was started",
        process=process,
    )
    # The learner's endless loop is running once its checking process is.
    wait_until(lambda: worker_pids(process.pid), "no checking process", process=process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert b"Interrupted; the server was stopped." in stderr
    assert workshop_containers(engine, process.pid) == []


@pytest.mark.usefixtures("unrelated_container")
def test_stale_containers_of_dead_processes_are_removed(engine: Any, image: str) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = engine.containers.create(
        image,
        command=["valkey-server", "--port", str(free_loopback_port())],
        labels={LABEL: "1", LABEL_PID: str(dead.pid), LABEL_HOST: socket.gethostname()},
        network_mode="host",
    )
    assert len(workshop_containers(engine, dead.pid)) == 1
    backend = DockerBackend(image, network="host")
    with backend:
        # Another workshop on this machine may have removed it first: what counts is that
        # it is gone once ours has started.
        assert workshop_containers(engine, dead.pid) == []
        assert workshop_containers(engine) == [backend.container_id]
    assert workshop_containers(engine) == []
    with pytest.raises(NotFound):
        engine.containers.get(stale.id)


@pytest.mark.usefixtures("unrelated_container")
def test_taken_port_is_a_clear_error(engine: Any, image: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        backend = DockerBackend(image, network="host", port=port)
        with pytest.raises(ServerError, match=f"Port {port} on 127.0.0.1 is already in use"):
            backend.start()
    assert workshop_containers(engine) == []


@pytest.mark.usefixtures("unrelated_container")
def test_container_exiting_early_shows_its_last_log_lines(engine: Any, image: str) -> None:
    broken = "localhost/valkey-workshop-ci:broken"
    with tempfile.TemporaryDirectory() as context:
        # Every start of this image passes a bad directive first: the server exits at once.
        Path(context, "Dockerfile").write_text(
            f'FROM {image}\nENTRYPOINT ["valkey-server", "--no-such-directive", "x"]\n'
        )
        engine.images.build(path=context, tag=broken, rm=True)
    with pytest.raises(ServerError) as raised:
        DockerBackend(broken, network="host").start()
    # Seen exiting, not waited out: a time-out would say "did not answer PING within".
    assert "did not start" in str(raised.value)
    assert "did not answer" not in str(raised.value)
    assert "Its last log lines" in str(raised.value)
    assert "no-such-directive" in str(raised.value)
    assert workshop_containers(engine) == []


def test_missing_image_that_cannot_be_pulled_is_a_clear_error(engine: Any) -> None:
    with pytest.raises(ServerError, match="is not present and cannot be pulled"):
        DockerBackend("localhost/valkey-workshop-ci:does-not-exist", network="host").start()


def test_auto_picks_docker_when_the_image_is_present(engine: Any, image: str) -> None:
    choice = choose_backend(None, None, {}, image=image)
    assert choice.name == "docker"
    assert choice.reason == f"auto: Docker engine answers and image {image} is present"


def test_with_the_engine_gone_auto_falls_back_and_docker_exits_2(
    engine: Any, image: str, monkeypatch: pytest.MonkeyPatch, hermetic: Path
) -> None:
    # An engine that is not running: a socket nothing listens on.
    missing = f"unix://{hermetic.parent}/no-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", missing)
    auto = runner.invoke(app, ["check", "module3", "bottleneck", "--image", image])
    assert auto.exit_code == 1  # the untouched starter fails its checks
    assert f"auto: Docker engine not reachable at {missing}: using the embedded Valkey" in (
        auto.stderr.replace("\n", "")
    )
    forced = runner.invoke(app, ["check", "module3", "--backend", "docker", "--image", image])
    assert forced.exit_code == 2
    assert f"Error: Docker engine not reachable at {missing}: is Docker running?" in forced.stderr
    assert "Traceback" not in forced.output


def test_unknown_docker_network_is_a_usage_error() -> None:
    result = runner.invoke(
        app, ["check", "module3", "--backend", "docker", "--docker-network", "nat"]
    )
    assert result.exit_code == 2
    assert "Unknown Docker network 'nat'" in result.stderr


def test_docker_module_has_a_pinned_default_image() -> None:
    assert docker_backend.DEFAULT_IMAGE.startswith("valkey/valkey:")
    assert docker_backend.DEFAULT_IMAGE.split(":")[1][0].isdigit()


def test_doctor_reports_engine_image_and_auto_choice(engine: Any, image: str) -> None:
    result = runner.invoke(app, ["doctor", "--image", image])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Docker engine │ ✓" in text
    assert f"image {image}" in text and "present" in text
    assert "auto would pick: docker" in text


def test_doctor_pull_of_an_image_no_registry_has_is_a_clear_error(engine: Any) -> None:
    result = runner.invoke(
        app, ["doctor", "--pull", "--image", "localhost/valkey-workshop-ci:nope"]
    )
    assert result.exit_code == 2
    assert "Error: Cannot pull localhost/valkey-workshop-ci:nope" in result.stderr
    assert "Traceback" not in result.output


def test_the_password_is_not_in_docker_inspect(engine: Any, image: str) -> None:
    backend = DockerBackend(image, network="host")
    with backend as info:
        password = info.url.split(":", 2)[2].split("@")[0]
        assert len(password) > 20
        attrs = engine.api.inspect_container(backend.container_id)
        assert password not in json.dumps(attrs)
        for exec_id in attrs.get("ExecIDs") or ():
            assert password not in json.dumps(engine.api.exec_inspect(exec_id))
        port = int(info.url.rsplit(":", 1)[1].split("/")[0])
        anonymous = valkey.Valkey(host="127.0.0.1", port=port, socket_timeout=2)
        with pytest.raises(valkey.AuthenticationError):
            anonymous.ping()
        assert valkey.Valkey.from_url(info.url).ping()


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_an_interrupted_start_leaves_no_container(engine: Any, image: str, delay: float) -> None:
    script = (
        "from valkey_workshop.server.docker import DockerBackend\n"
        f"with DockerBackend({image!r}, network='host'):\n"
        "    import time; time.sleep(30)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_until(
        lambda: workshop_containers(engine, process.pid),
        "no container was created",
        process=process,
    )
    time.sleep(delay)  # the moment of the interrupt is what this test varies
    process.send_signal(signal.SIGINT)
    _, said = process.communicate(timeout=120)
    # What the process said is in every failure message (a start that failed says why).
    assert process.returncode != 0, said  # interrupted, not finished
    assert workshop_containers(engine, process.pid) == [], said


def test_a_stopped_container_server_restarts_at_the_same_url(engine: Any, image: str) -> None:
    backend = DockerBackend(image, network="host")
    with backend as info:
        client = valkey.Valkey.from_url(info.url)
        with contextlib.suppress(valkey.ConnectionError):
            client.shutdown(nosave=True)
        assert info.restart is not None
        again = info.restart()
        assert again.url == info.url
        assert valkey.Valkey.from_url(again.url).ping()
        assert len(workshop_containers(engine, os.getpid())) == 1
    assert workshop_containers(engine, os.getpid()) == []


def test_bridge_network_publishes_the_port_on_loopback_only(engine: Any, image: str) -> None:
    # Docker Desktop (macOS, Windows) and most Linux engines have a bridge; our CI engine runs
    # with --bridge=none (no traffic beyond loopback), so there this path cannot run.
    if not engine.networks.list(names=["bridge"]):
        pytest.skip(
            "this Docker engine has no bridge network (dockerd --bridge=none, as in CI): the "
            "bridge path is tested only where an engine has one"
        )
    backend = DockerBackend(image, "bridge")
    with backend as info:
        client = valkey.Valkey.from_url(info.url)
        assert client.ping()
        client.close()
        (container_id,) = workshop_containers(engine)
        container = engine.containers.get(container_id)
        bindings = container.attrs["HostConfig"]["PortBindings"]
        hosts = {binding["HostIp"] for ports in bindings.values() for binding in ports}
        assert hosts == {"127.0.0.1"}


def test_a_start_that_fails_after_create_leaves_no_created_container(
    engine: Any, image: str
) -> None:
    # An image without valkey-server: the container is created, then fails to start, and
    # stays "created" unless the backend removes it.
    empty = "localhost/valkey-workshop-ci:empty"
    with tempfile.TemporaryDirectory() as context:
        Path(context, "placeholder").write_text("no server here\n")
        Path(context, "Dockerfile").write_text("FROM scratch\nCOPY placeholder /data/placeholder\n")
        engine.images.build(path=context, tag=empty, rm=True)
    with pytest.raises(ServerError, match="did not start"):
        DockerBackend(empty, network="host").start()
    assert workshop_containers(engine, os.getpid()) == []
