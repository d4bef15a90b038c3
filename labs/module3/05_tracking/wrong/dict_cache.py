"""Known-wrong: a hand-made dict cache that is never invalidated."""

import valkey


class DictCachedValkey(valkey.Valkey):
    """Remembers every GET forever."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._local = {}

    def get(self, name):
        if name not in self._local:
            self._local[name] = super().get(name)
        return self._local[name]


def connect_with_client_cache(**connection_kwargs) -> valkey.Valkey:
    """A client with a client-side cache that the server invalidates."""
    # RESP3 carries the invalidation pushes on this connection; cache_enabled keeps the copies.
    return DictCachedValkey(**connection_kwargs, decode_responses=True)


def enable_prefix_broadcast(client: valkey.Valkey, prefixes: list[str]) -> None:
    """Tracking in broadcasting mode for keys under `prefixes`."""
    client.client_tracking_on(bcast=True, prefix=prefixes)
