"""Known-wrong (a tester's answer): three of the four situations get a policy meant for another
one; the check names all three at once."""


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes."""
    client.config_set("maxmemory", maxmemory_bytes)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)


POLICY_CACHE_ONLY: str = "allkeys-lru"
POLICY_MIXED_DATA: str = "allkeys-lru"
POLICY_HOT_KEYS: str = "allkeys-lru"
POLICY_SHORTEST_TTL: str = "volatile-lru"
