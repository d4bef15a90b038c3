"""Known-wrong (a tester's answer): raises every limit to at least 4 MiB."""

def configure_lru_cache(client, maxmemory_bytes, samples=5):
    client.config_set("maxmemory", max(maxmemory_bytes, 4 * 1024 * 1024))
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)
POLICY_CACHE_ONLY = "allkeys-lru"
POLICY_MIXED_DATA = "volatile-lru"
POLICY_HOT_KEYS = "allkeys-lfu"
POLICY_SHORTEST_TTL = "volatile-ttl"

