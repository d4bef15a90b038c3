"""Accepted: the cache options on the ConnectionPool; one CLIENT TRACKING call per prefix
(the server adds each prefix to the connection's BCAST prefixes)."""

import valkey


def connect_with_client_cache(**connection_kwargs):
    pool = valkey.ConnectionPool(
        **connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True
    )
    return valkey.Valkey(connection_pool=pool)


def enable_prefix_broadcast(client, prefixes):
    for prefix in prefixes:
        client.client_tracking_on(bcast=True, prefix=[prefix])
