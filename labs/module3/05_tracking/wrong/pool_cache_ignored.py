"""Known-wrong: cache_enabled given to Valkey() beside a pool, where valkey-py ignores it."""

import valkey


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    pool = valkey.ConnectionPool(**connection_kwargs, protocol=3, decode_responses=True)
    return valkey.Valkey(connection_pool=pool, cache_enabled=True)


def enable_prefix_broadcast(client: valkey.Valkey, prefixes: list[str]) -> None:
    """Tracking in broadcasting mode for keys under `prefixes`."""
    client.client_tracking_on(bcast=True, prefix=prefixes)
