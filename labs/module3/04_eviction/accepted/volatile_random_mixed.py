"""Accepted: volatile-random for mixed data. Any volatile-* policy keeps keys without a TTL out
of reach, which is all the situation asks (volatile-lru is the usual choice, not the only one)."""


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes."""
    client.config_set("maxmemory", maxmemory_bytes)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)


POLICY_CACHE_ONLY: str = "allkeys-lru"
POLICY_MIXED_DATA: str = "volatile-random"
POLICY_HOT_KEYS: str = "allkeys-lfu"
POLICY_SHORTEST_TTL: str = "volatile-ttl"
