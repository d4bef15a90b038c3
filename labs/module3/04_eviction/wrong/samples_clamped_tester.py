"""Known-wrong (a tester's answer): maxmemory-samples clamped to at most 10."""
POLICY_CACHE_ONLY = "allkeys-lru"
POLICY_MIXED_DATA = "volatile-lru"
POLICY_HOT_KEYS = "allkeys-lfu"
POLICY_SHORTEST_TTL = "volatile-ttl"
def configure_lru_cache(client, maxmemory_bytes, samples=5):
    client.config_set("maxmemory", maxmemory_bytes)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", min(samples, 10))
