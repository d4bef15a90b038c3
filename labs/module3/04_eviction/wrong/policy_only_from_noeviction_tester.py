"""Known-wrong (a tester's answer): sets allkeys-lru only when the policy was noeviction,
so a server at any other policy keeps it."""
POLICY_CACHE_ONLY = "allkeys-lru"
POLICY_MIXED_DATA = "volatile-lru"
POLICY_HOT_KEYS = "allkeys-lfu"
POLICY_SHORTEST_TTL = "volatile-ttl"
def configure_lru_cache(client, maxmemory_bytes, samples=5):
    client.config_set("maxmemory", maxmemory_bytes)
    if client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction": client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_set("maxmemory-samples", samples)
