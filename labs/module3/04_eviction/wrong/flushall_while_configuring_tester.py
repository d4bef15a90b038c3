"""Known-wrong (a tester's answer): configure_lru_cache ends with FLUSHALL, deleting every key."""
POLICY_CACHE_ONLY = "allkeys-lru"
POLICY_MIXED_DATA = "volatile-lru"
POLICY_HOT_KEYS = "allkeys-lfu"
POLICY_SHORTEST_TTL = "volatile-ttl"
def configure_lru_cache(client, maxmemory_bytes, samples=5):
    client.config_set("maxmemory", maxmemory_bytes)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples); client.flushall()
