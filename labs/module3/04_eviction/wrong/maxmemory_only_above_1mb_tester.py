"""Known-wrong (a tester's answer): sets maxmemory only when maxmemory_bytes is above
1,000,000, so a smaller limit leaves the server without one."""

def configure_lru_cache(client, maxmemory_bytes, samples=5):
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)
    if maxmemory_bytes > 1_000_000:
        client.config_set("maxmemory", maxmemory_bytes)
POLICY_CACHE_ONLY = "allkeys-lru"
POLICY_MIXED_DATA = "volatile-lru"
POLICY_HOT_KEYS = "allkeys-lfu"
POLICY_SHORTEST_TTL = "volatile-ttl"

