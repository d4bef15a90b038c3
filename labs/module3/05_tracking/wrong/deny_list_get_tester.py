"""Known-wrong (a tester's answer): puts GET on cache_deny_list (thinking it lists what should be invalidated), so GET is never cached."""
import valkey

def connect_with_client_cache(**connection_kwargs):
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True, cache_deny_list=["GET"])

def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError
    client.client_tracking_on(bcast=True, prefix=prefixes)
