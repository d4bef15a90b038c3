"""Steps 01-03's TTL claims on the Docker image's server (Valkey 8.1.8 in CI), as on 9.1.2."""

from __future__ import annotations

from typing import Any

import pytest
import valkey

from tests.content.test_claims_01_03 import assert_ttl_claims
from valkey_workshop.server.docker import DockerBackend

pytestmark = pytest.mark.docker


def test_ttl_claims_hold_on_the_docker_image(engine: Any, image: str) -> None:
    with DockerBackend(image, network="host") as info:
        client = valkey.Valkey.from_url(info.url, decode_responses=True)
        try:
            assert_ttl_claims(client)
        finally:
            client.close()
