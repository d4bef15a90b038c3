"""Wrong: configure_lru_cache ignores Valkey errors (meant for servers that refuse CONFIG SET)."""

import valkey


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes."""
    settings = {
        "maxmemory": maxmemory_bytes,
        "maxmemory-policy": "allkeys-lru",
        "maxmemory-samples": samples,
    }
    for name, value in settings.items():
        try:
            client.config_set(name, value)
        except valkey.ValkeyError as error:
            # Some managed services refuse CONFIG SET: keep going with the others.
            print(f"could not set {name}: {error}")


POLICY_CACHE_ONLY: str = "allkeys-lru"
POLICY_MIXED_DATA: str = "volatile-lru"  # only keys with a TTL are candidates
POLICY_HOT_KEYS: str = "allkeys-lfu"  # how often keys were read lately, not when last
POLICY_SHORTEST_TTL: str = "volatile-ttl"
