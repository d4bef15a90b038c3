"""Known-wrong: only the first prefix is registered."""

import valkey


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    """A client with a client-side cache that the server invalidates."""
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True)


def enable_prefix_broadcast(client, prefixes):
    client.client_tracking_on(bcast=True, prefix=[prefixes[0]])
