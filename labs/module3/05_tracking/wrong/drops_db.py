"""Known-wrong: connect_with_client_cache leaves the database number out of the settings."""

import valkey
def connect_with_client_cache(**connection_kwargs):
    kw = {k: v for k, v in connection_kwargs.items() if k != 'db'}
    return valkey.Valkey(**kw, protocol=3, cache_enabled=True, decode_responses=True)
def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError("need at least one prefix")
    client.client_tracking_on(bcast=True, prefix=list(prefixes))
