"""Known-wrong (a tester's answer): 'optimises' several prefixes into their common prefix, so the connection hears about keys under none of them too."""
import os
import valkey

def connect_with_client_cache(**connection_kwargs):
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True)

def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError
    common = os.path.commonprefix(list(prefixes))
    client.client_tracking_on(bcast=True, prefix=[common] if common else list(prefixes))
