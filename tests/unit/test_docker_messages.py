"""Messages of the Docker backend that need no engine (server/docker.py)."""

from __future__ import annotations

import requests
from docker.errors import APIError

from valkey_workshop.server import docker as docker_backend


def test_an_engine_refusal_names_the_engines_reason() -> None:
    # docker-py's APIError puts the engine's reason after a URL holding the 64-character
    # container id: cut at 160 characters, "did not start: 500 Server Error for
    # http+docker://..." said nothing of why (a start failure seen in CI was unexplained).
    response = requests.Response()
    response.status_code = 500
    response.reason = "Internal Server Error"
    response.url = f"http+docker://localhost/v1.45/containers/{'a' * 64}/start"
    reason = "driver failed programming external connectivity: port is already allocated"
    error = APIError("500 Server Error", response=response, explanation=reason)
    assert len(str(error)) > 160  # the old cut-off lost the reason
    assert docker_backend._short(error) == f"{reason} (engine answered 500)"
    assert docker_backend._short(RuntimeError("boom\nsecond line")) == "boom"
