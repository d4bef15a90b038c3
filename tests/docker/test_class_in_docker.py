"""The class server in a container (issue 13: "an embedded or Docker Valkey, or --url"), on a
real engine with host networking on loopback: ACL users, no default user, events kept in the
class folder across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import valkey

from valkey_workshop.classroom.config import events_key
from valkey_workshop.classroom.membership import ClassPublisher
from valkey_workshop.classroom.serve import serve_class
from valkey_workshop.server.embedded import free_loopback_port

pytestmark = pytest.mark.docker


def test_a_class_served_from_a_container_keeps_its_events(
    engine: Any, image: str, tmp_path: Path
) -> None:
    folder = tmp_path / "class"
    listen = f"127.0.0.1:{free_loopback_port()}"
    options: dict[str, Any] = {"backend": "docker", "image": image, "network": "host"}
    with serve_class(folder, listen=listen, advertise=None, module="module3", **options) as first:
        code = first.config.join_code()
        learner = ClassPublisher(tmp_path / "w")
        member = learner.join(code, "Ada")
        outcome = learner.publish([{"kind": "skip", "module": "module3", "step": "2"}])
        assert outcome is not None and outcome.problem is None
        assert first.relay.wait_passes(2)
        with pytest.raises((valkey.AuthenticationError, valkey.exceptions.ResponseError)):
            valkey.Valkey(host="127.0.0.1", port=code.port).ping()  # no default user
        learner_client = valkey.Valkey(
            host="127.0.0.1", port=code.port, username=member.user, password=member.secret
        )
        with pytest.raises(valkey.exceptions.NoPermissionError):
            learner_client.xrange(events_key(code.class_id))
        learner_client.close()
    with serve_class(folder, listen=None, advertise=None, module="module3", **options) as again:
        trainer = valkey.Valkey.from_url(again.server.url)
        assert trainer.xlen(events_key(again.config.class_id)) == 2  # join + skip, kept
        trainer.close()
