"""The shared server fixture hands every test a server as new: what one test (or the learner
code it runs) leaves never reaches the next (a wrong answer's product:P1xx keys once made a
later --url test refuse to run)."""

from __future__ import annotations

import valkey

from tests.conftest import SharedServer


def test_what_a_test_leaves_on_the_shared_server_is_undone(_shared_server: SharedServer) -> None:
    client = valkey.Valkey.from_url(_shared_server.info.url, decode_responses=True)
    try:
        client.set("product:P123", "left by a wrong answer")
        client.execute_command("SELECT", 3)
        client.set("workshop:lazyfree:big:trash", "x")
        client.execute_command("SELECT", 0)
        client.config_set("maxmemory-policy", "allkeys-lru")
        client.config_set("maxmemory", "64mb")
        client.execute_command(
            "FUNCTION",
            "LOAD",
            "#!lua name=leftover\nserver.register_function('f', function() return 1 end)",
        )
        client.acl_setuser("intruder", enabled=True, nopass=True)
    finally:
        client.close()
    _shared_server.restore()
    client = valkey.Valkey.from_url(_shared_server.info.url, decode_responses=True)
    try:
        assert client.info("keyspace") == {}
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        assert client.config_get("maxmemory")["maxmemory"] == "0"
        assert client.execute_command("FUNCTION", "LIST") == []
        assert client.acl_users() == ["default"]
    finally:
        client.close()


def test_a_shared_server_someone_shut_down_comes_back_on_the_same_url(
    _shared_server: SharedServer,
) -> None:
    url = _shared_server.info.url
    with valkey.Valkey.from_url(url) as client:
        client.shutdown(nosave=True)  # as learner code may
    _shared_server.restore()
    assert _shared_server.info.url == url
    with valkey.Valkey.from_url(url) as client:
        assert client.ping()
