"""Known-wrong: the policy is volatile-lru and the samples argument is ignored; the samples
check names the samples, not the policy (configure-lru-cache names that)."""


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes."""
    client.config_set("maxmemory", maxmemory_bytes)
    client.config_set("maxmemory-policy", "volatile-lru")
    client.config_set("maxmemory-samples", 3)


POLICY_CACHE_ONLY: str = "allkeys-lru"
POLICY_MIXED_DATA: str = "volatile-lru"  # only keys with a TTL are candidates
POLICY_HOT_KEYS: str = "allkeys-lfu"  # how often keys were read lately, not when last
POLICY_SHORTEST_TTL: str = "volatile-ttl"
