"""Step 05 · Client-side caching with tracking

1. connect_with_client_cache: a client that keeps a local cache the server keeps correct.
2. enable_prefix_broadcast: tracking in broadcasting mode for some key prefixes.

Check your work with:  workshop check module3 tracking
"""

import valkey


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    """A client (built from host/port/password/... in connection_kwargs) with a client-side
    cache that the server invalidates. Replies decoded to str."""
    # TODO: which protocol carries invalidation messages, and which flag turns the cache on?
    raise NotImplementedError


def enable_prefix_broadcast(client: valkey.Valkey, prefixes: list[str]) -> None:
    """Turn on tracking on `client`'s connection (RESP3, one connection) in broadcasting
    mode, so that it is told about every write to keys under any of `prefixes` (one or
    more, none a prefix of another), its own writes included, and about no other key.
    With no prefixes, turn nothing on (raising ValueError is fine): broadcasting without a
    prefix would report every write to every key."""
    # TODO
    raise NotImplementedError
