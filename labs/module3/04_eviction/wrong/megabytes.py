"""Known-wrong: converts the limit to megabytes."""


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes."""
    client.config_set("maxmemory", f"{maxmemory_bytes // (1024 * 1024)}mb")
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)


POLICY_CACHE_ONLY: str = "allkeys-lru"
POLICY_MIXED_DATA: str = "volatile-lru"  # only keys with a TTL are candidates
POLICY_HOT_KEYS: str = "allkeys-lfu"  # frequency, not recency
POLICY_SHORTEST_TTL: str = "volatile-ttl"
