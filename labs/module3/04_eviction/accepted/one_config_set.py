"""Accepted: one CONFIG SET with three pairs; other fitting policies, written in capitals."""


def configure_lru_cache(client, maxmemory_bytes, samples=5):
    client.execute_command(
        "CONFIG",
        "SET",
        "maxmemory",
        str(maxmemory_bytes),
        "maxmemory-policy",
        "allkeys-lru",
        "maxmemory-samples",
        str(samples),
    )


POLICY_CACHE_ONLY = "ALLKEYS-LRU"
POLICY_MIXED_DATA = "volatile-lfu"
POLICY_HOT_KEYS = " allkeys-lfu "
POLICY_SHORTEST_TTL = "volatile-ttl"
