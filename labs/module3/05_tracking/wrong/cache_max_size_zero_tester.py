"""Known-wrong (a tester's answer): cache_max_size=0, a local cache with room for no entry (valkey-py fails with IndexError on the first GET it tries to cache)."""
import valkey

def connect_with_client_cache(**connection_kwargs):
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, cache_max_size=0, decode_responses=True)

def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError
    client.client_tracking_on(bcast=True, prefix=prefixes)
