"""Known-wrong (a tester's answer): connect_with_client_cache passes on only host, port and
password, so an ACL username and a database number given are dropped."""

import valkey
def connect_with_client_cache(**connection_kwargs):
    kw = {k: v for k, v in connection_kwargs.items() if k in ('host', 'port', 'password')}
    return valkey.Valkey(**kw, protocol=3, cache_enabled=True, decode_responses=True)
def enable_prefix_broadcast(client, prefixes):
    if not prefixes:
        raise ValueError("need at least one prefix")
    client.client_tracking_on(bcast=True, prefix=list(prefixes))
