"""Known-wrong: enable_prefix_broadcast ignores an error from CLIENT
TRACKING, so the caller believes tracking is on."""

import valkey


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    """A client with a client-side cache that the server invalidates."""
    # RESP3 carries the invalidation pushes on this connection; cache_enabled keeps the copies.
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True)


def enable_prefix_broadcast(client: valkey.Valkey, prefixes: list[str]) -> None:
    """Tracking in broadcasting mode for keys under `prefixes`."""
    if not prefixes:  # BCAST without PREFIX would report every key on the server
        raise ValueError("at least one prefix is needed")
    try:
        client.client_tracking_on(bcast=True, prefix=prefixes)
    except Exception:  # tracking is an optimisation
        pass
