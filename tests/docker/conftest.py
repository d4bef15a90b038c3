"""Docker-backend tests need an engine and a local Valkey image (scripts/ci-docker.sh makes
both). Where neither can be had they skip with the reason; in CI
(WORKSHOP_REQUIRE_DOCKER=1) a missing engine fails them instead."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from docker.errors import ImageNotFound

from valkey_workshop.errors import ServerError
from valkey_workshop.server.docker import LABEL, LABEL_HOST, LABEL_PID, connect_engine

#: The image scripts/ci-docker.sh builds.
CI_IMAGE = os.environ.get("WORKSHOP_CI_IMAGE", "localhost/valkey-workshop-ci:8.1.8")


def _unavailable(reason: str) -> None:
    if os.environ.get("WORKSHOP_REQUIRE_DOCKER") == "1":
        pytest.fail(f"WORKSHOP_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    try:
        client = connect_engine(timeout=3)
    except ServerError as error:
        _unavailable(f"no Docker engine: {error}")
    try:
        client.images.get(CI_IMAGE)
    except ImageNotFound:
        client.close()
        _unavailable(f"image {CI_IMAGE} is missing: run scripts/ci-docker.sh")
    yield client
    client.close()


@pytest.fixture
def image(engine: Any) -> str:
    return CI_IMAGE


@pytest.fixture
def unrelated_container(engine: Any, image: str) -> Iterator[None]:
    """Another workshop's container on this machine while the test runs (created, labelled
    with a live process that is not this test, so no start removes it as stale). A test that
    counts every workshop container fails with it; one that counts its own does not."""
    theirs = engine.containers.create(
        image,
        command=["valkey-server", "--port", "0"],
        labels={LABEL: "1", LABEL_PID: "1", LABEL_HOST: socket.gethostname()},
        network_mode="host",
    )
    try:
        yield
    finally:
        theirs.remove(force=True)
