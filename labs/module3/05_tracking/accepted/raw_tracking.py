"""Accepted: cache options spelled out; BCAST turned on with a raw CLIENT TRACKING command."""

import valkey


def connect_with_client_cache(**connection_kwargs):
    options = {"protocol": 3, "cache_enabled": True, "cache_max_size": 1000}
    return valkey.Valkey(decode_responses=True, **connection_kwargs, **options)


def enable_prefix_broadcast(client, prefixes):
    if len(prefixes) == 0:
        raise ValueError("no prefixes given")
    arguments = ["CLIENT", "TRACKING", "ON", "BCAST"]
    for prefix in prefixes:
        arguments += ["PREFIX", prefix]
    client.execute_command(*arguments)
