"""Lessons show the live server's own values, not claims typed into the text."""

from __future__ import annotations

import re

import valkey

from valkey_workshop.content import Module
from valkey_workshop.content.lesson import PLACEHOLDER, live_lesson
from valkey_workshop.server.base import ServerInfo


def test_every_placeholder_is_filled_from_the_server(module3: Module, server: ServerInfo) -> None:
    client = valkey.Valkey.from_url(server.url, decode_responses=True)
    try:
        for step in module3.steps:
            text = live_lesson(step.lesson, client)
            assert not PLACEHOLDER.search(text), step.slug
            assert "(unknown:" not in text, step.slug
        lazyfree = live_lesson(module3.step("lazyfree").lesson, client)
        # Valkey 8+ defaults, read from the server itself.
        assert re.search(r"`lazyfree-lazy-user-del` \| `DEL` \| `yes`", lazyfree)
        eviction = live_lesson(module3.step("eviction").lesson, client)
        assert "`maxmemory-policy` `noeviction`" in eviction
        samples = client.config_get("maxmemory-samples")["maxmemory-samples"]
        assert f"(here:\n`{samples}`)" in eviction or f"(here: `{samples}`)" in eviction
    finally:
        client.close()


def test_without_a_server_placeholders_say_what_they_stand_for(module3: Module) -> None:
    text = live_lesson(module3.step("lazyfree").lesson, None)
    assert "`(live: lazyfree-lazy-user-del)`" in text
