"""``workshop doctor --pull``: the docker backend's image pulled before a workshop."""

from __future__ import annotations

from collections.abc import Iterator

from valkey_workshop.errors import ServerError
from valkey_workshop.results.doctor import PullProgress

__all__ = ["PullProgress", "pull_image"]


def pull_image(image: str | None = None) -> Iterator[PullProgress]:
    """Pull the docker backend's image, reporting progress as it goes.

    Raises:
        ServerError: no engine, or the image cannot be pulled.
    """
    from valkey_workshop.server import docker  # noqa: PLC0415 - slow path

    chosen = docker.resolve_image(image)
    engine = docker.connect_engine()
    layers: dict[str, tuple[int, int]] = {}
    try:
        for event in docker.pull_image(engine, chosen):
            if "error" in event:
                raise ServerError(f"Cannot pull {chosen}: {event['error']}")
            detail = event.get("progressDetail") or {}
            if event.get("id") and detail.get("total"):
                layers[event["id"]] = (int(detail.get("current", 0)), int(detail["total"]))
            done = sum(current for current, _ in layers.values())
            total = sum(size for _, size in layers.values())
            yield PullProgress(chosen, str(event.get("status", "")), done, total)
    except ServerError:
        raise
    except Exception as error:  # docker-py raises several kinds while pulling
        raise ServerError(f"Cannot pull {chosen}: {docker.pull_failure(error)}") from error
    finally:
        engine.close()
