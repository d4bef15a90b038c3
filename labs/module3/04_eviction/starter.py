"""Step 04 · Eviction policies

Configure Valkey as an LRU cache, and pick the eviction policy for four situations.

Check your work with:  workshop check module3 eviction
"""


def configure_lru_cache(client, maxmemory_bytes: int, samples: int = 5) -> None:
    """Make the server an LRU cache of at most `maxmemory_bytes` bytes.

    Sets maxmemory, maxmemory-policy (least recently used, among all keys) and
    maxmemory-samples.
    """
    # TODO: three client.config_set(...) calls.
    raise NotImplementedError


# One policy name for each situation (there are eight policies; see the lesson).

# Every key is cache data: evict the least recently used.
POLICY_CACHE_ONLY: str = ""  # TODO

# Cache keys carry a TTL; other keys (without a TTL) must never be evicted.
POLICY_MIXED_DATA: str = ""  # TODO

# Every key is cache data. A few keys are read many times a minute, most are read once;
# keep the often-read ones: a key read once goes first, even if it was read just now.
POLICY_HOT_KEYS: str = ""  # TODO

# Evict the keys closest to expiring first.
POLICY_SHORTEST_TTL: str = ""  # TODO
