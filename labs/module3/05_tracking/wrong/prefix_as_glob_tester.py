"""Known-wrong (a tester's answer): treats prefixes as glob patterns, sends PREFIX 'user:*' (matches only keys literally starting 'user:*')."""
import valkey

def connect_with_client_cache(**connection_kwargs):
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True)

def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError
    client.client_tracking_on(bcast=True, prefix=[p + "*" for p in prefixes])
