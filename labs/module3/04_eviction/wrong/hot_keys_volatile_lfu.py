"""Known-wrong: LFU for the popular keys, but only among keys with a TTL."""


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes."""
    client.config_set("maxmemory", maxmemory_bytes)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)


POLICY_CACHE_ONLY: str = "allkeys-lru"
POLICY_MIXED_DATA: str = "volatile-lru"
POLICY_HOT_KEYS: str = "volatile-lfu"
POLICY_SHORTEST_TTL: str = "volatile-ttl"
