"""Known-wrong: the cache works, but replies are bytes (no decode_responses=True)."""

import valkey


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True)


def enable_prefix_broadcast(client: valkey.Valkey, prefixes: list[str]) -> None:
    """Tracking in broadcasting mode for keys under `prefixes`."""
    client.client_tracking_on(bcast=True, prefix=prefixes)
