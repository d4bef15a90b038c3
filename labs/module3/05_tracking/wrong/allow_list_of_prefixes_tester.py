"""Known-wrong (a tester's answer): puts key prefixes in cache_allow_list (it names commands), so GET is no longer cached."""
import valkey

def connect_with_client_cache(**connection_kwargs):
    return valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, decode_responses=True,
                         cache_allow_list=["workshop:", "product:"])

def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError
    client.client_tracking_on(bcast=True, prefix=prefixes)
