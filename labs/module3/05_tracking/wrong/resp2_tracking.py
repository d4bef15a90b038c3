"""Known-wrong: RESP2 with CLIENT TRACKING ON (no invalidations ever arrive)."""

import valkey


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    """A client with a client-side cache that the server invalidates."""
    # RESP3 carries the invalidation pushes on this connection; cache_enabled keeps the copies.
    client = valkey.Valkey(**connection_kwargs, decode_responses=True, single_connection_client=True)
    client.client_tracking_on()
    return client


def enable_prefix_broadcast(client: valkey.Valkey, prefixes: list[str]) -> None:
    """Tracking in broadcasting mode for keys under `prefixes`."""
    client.client_tracking_on(bcast=True, prefix=prefixes)
