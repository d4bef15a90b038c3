"""Accepted: a bounded local cache with a TTL of its own; prefixes passed as a tuple."""

import valkey


def connect_with_client_cache(**connection_kwargs):
    return valkey.Valkey(
        **connection_kwargs,
        decode_responses=True,
        protocol=3,
        cache_enabled=True,
        cache_max_size=500,
        cache_ttl=60,
    )


def enable_prefix_broadcast(client, prefixes):
    assert prefixes, "BCAST needs at least one prefix"
    client.client_tracking_on(prefix=tuple(prefixes), bcast=True)
