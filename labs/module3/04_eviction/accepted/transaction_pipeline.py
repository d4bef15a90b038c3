"""Accepted: the three settings in one MULTI/EXEC pipeline, values as strings, the policies
kept in a dict first."""

POLICIES = {
    "cache": "allkeys-lru",
    "mixed": "volatile-ttl",
    "hot": "allkeys-lfu",
    "ttl": "volatile-ttl",
}


def configure_lru_cache(client, maxmemory_bytes, samples=5):
    pipe = client.pipeline()  # transaction=True: applied together
    pipe.config_set("maxmemory", str(maxmemory_bytes))
    pipe.config_set("maxmemory-policy", POLICIES["cache"])
    pipe.config_set("maxmemory-samples", str(samples))
    pipe.execute()


POLICY_CACHE_ONLY = POLICIES["cache"]
POLICY_MIXED_DATA = POLICIES["mixed"]
POLICY_HOT_KEYS = POLICIES["hot"]
POLICY_SHORTEST_TTL = POLICIES["ttl"]
