"""Step 02 · Cache-aside

Put Valkey in front of the slow product database.

- get_product_details: read from Valkey first; on a miss read the database and cache the
  record as JSON with a TTL.
- update_product: write the database, then make sure no reader keeps seeing the old record.

`client` is a valkey-py client (decode_responses=True: replies are str); `db` is the workshop's
slow database: db.get_product(id) -> dict | None, db.update_product(id, changes) -> dict.

Check your work with:  workshop check module3 cache-aside
"""

import json  # json.dumps(record) -> str, json.loads(text) -> dict

# How long a cached product may be served before it is read from the database again.
CACHE_TTL_SECONDS: int = 300


def cache_key(product_id: str) -> str:
    """The Valkey key for a product's record."""
    return f"product:{product_id}:details"


def get_product_details(client, db, product_id: str) -> dict | None:
    """The product's record: from Valkey when cached, else from the database (then cached).

    - Hit: return the cached record (decoded from JSON to a dict), without reading the
      database, whoever cached it.
    - Miss: read the database once, store the record at cache_key(product_id) as a JSON string
      with a TTL of at most CACHE_TTL_SECONDS (value and TTL in one command), and return it.
    - A product the database does not know: return None, and cache nothing for it.
    """
    # TODO 1: GET the product's key. On a hit, turn the JSON back into a dict and return it.
    # TODO 2: On a miss, read the record with db.get_product(product_id).
    #         An unknown product comes back as None: return None, there is nothing to cache.
    # TODO 3: Store the record as JSON with a TTL of CACHE_TTL_SECONDS (one command), return it.
    raise NotImplementedError


def update_product(client, db, product_id: str, changes: dict) -> dict:
    """Apply `changes` in the database and return the updated record.

    Write the database first, then delete the cached copy (or replace it with the new record,
    with a TTL of at most CACHE_TTL_SECONDS), so the next get_product_details returns the new
    data. The cache never holds the new values before the database does. A product that was
    not cached gets no entry, or one with such a TTL. Other products' entries stay cached. An
    unknown product raises KeyError, as db.update_product does.
    """
    # TODO 1: write the change to the database (db.update_product returns the new record).
    # TODO 2: then invalidate the cached copy, so the next read fetches the new record.
    raise NotImplementedError
