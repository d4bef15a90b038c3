"""Step 09 · Failure modes (self-paced)

Harden step 02's cache-aside against what breaks caches in production.

- ttl_with_jitter(base, spread): a random whole number of seconds from base - spread to
  base + spread (one side of that range is fine too), and never less than 1. Entries cached
  at the same moment then expire at different moments.
- get_product_protected(client, db, product_id): the product's record (a dict), or None for a
  product the database does not know.
    * Hit: the JSON at product:{id}:details, without the database.
    * Miss: only ONE reader refills the entry, even when many arrive at once. It takes the lock
      lock_key(product_id) with SET NX and a TTL of LOCK_TTL_MS in one command, storing a
      random token; it reads the database, caches the record as JSON with
      ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS), and releases the lock only if
      it still holds its token (compare and delete in one step). Every other reader waits
      (sleep WAIT_SECONDS), then reads the cache again, and takes the lock itself if the lock
      is gone (its holder died) and the entry is still missing.
    * A product the database does not know (db.get_product returns None) is remembered for
      NEGATIVE_TTL_SECONDS, so asking again does not reach the database. Store the JSON
      text "null" (json.dumps(None)): json.loads gives None back.
    * If the database raises, the error reaches the caller, nothing is cached, and the lock
      is released.
- cache_if_newer(client, record): record is a product dict with an integer "version". Store it
  at product:{id}:details (JSON, TTL as above) only when the cache holds nothing, a remembered
  miss, or a record with a LOWER version; return True if stored, else False. Compare and
  write in one step, so that a writer that gets in between is never overwritten.

Check your work with:  workshop check module3 failure-modes
"""

import json  # json.dumps(record) -> str, json.loads(text) -> dict (or None for "null")
import random  # random.randint(a, b): a whole number from a to b, both included
import secrets  # secrets.token_hex(16): a token no other reader will have
import time  # time.sleep(seconds)

# How long a cached product is served, and how far each entry's TTL may move from it.
CACHE_TTL_SECONDS: int = 300
TTL_SPREAD_SECONDS: int = 60
# How long "no such product" is remembered: short, so a product added later soon shows up.
NEGATIVE_TTL_SECONDS: int = 30
# How long a lock lives if its holder dies: longer than a database read.
LOCK_TTL_MS: int = 2000
# How long a reader waits before looking at the cache again.
WAIT_SECONDS: float = 0.02

# Delete KEYS[1] only if it still holds ARGV[1]; run it with client.eval(script, 1, key, token).
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def cache_key(product_id: str) -> str:
    """The Valkey key for a product's record (as in step 02)."""
    return f"product:{product_id}:details"


def lock_key(product_id: str) -> str:
    """The key of the lock that lets one reader at a time refill a product's entry."""
    return f"product:{product_id}:lock"


def ttl_with_jitter(base: int, spread: int) -> int:
    """A random whole number of seconds within `spread` of `base`, and at least 1."""
    # TODO: draw a new random number on every call (random.randint).
    raise NotImplementedError


def get_product_protected(client, db, product_id: str) -> dict | None:
    """The product's record, read through the cache with stampede protection.

    Returns None for a product the database does not know (and remembers that briefly).
    """
    # TODO 1: GET cache_key(product_id). A hit returns json.loads(...) ("null" gives None).
    # TODO 2: On a miss, try to take the lock: client.set(lock_key(...), token, nx=True,
    #         px=LOCK_TTL_MS) with token = secrets.token_hex(16).
    # TODO 3: Got the lock? Look at the cache once more (someone may just have filled it),
    #         then read the database and cache the record with a jittered TTL, or json.dumps(None)
    #         with NEGATIVE_TTL_SECONDS for an unknown product. Release the lock in a
    #         `finally:` with RELEASE_LOCK, so an error cannot leave it behind.
    # TODO 4: No lock? time.sleep(WAIT_SECONDS) and start again from TODO 1.
    raise NotImplementedError


def cache_if_newer(client, record: dict) -> bool:
    """Cache `record` unless the cache already holds the same or a newer version.

    Returns True when the record was stored.
    """
    # TODO: compare the cached record's "version" with record["version"] and write in ONE
    #       step: a Lua script (client.eval; cjson.decode reads JSON inside the script),
    #       or WATCH + MULTI/EXEC (client.pipeline(), pipe.watch(key), ...).
    raise NotImplementedError
