"""Known-wrong: measure_cache_read times a GET that failed and
returns that time as if the read had worked."""

import time


def measure_database_read(db, product_id: str) -> float:
    """Read product `product_id` with one db.get_product() call; return how long it took.

    The result is milliseconds, as a float (for example 48.7). Time only that call.
    """
    started = time.perf_counter()
    db.get_product(product_id)
    return (time.perf_counter() - started) * 1000


def measure_cache_read(client, key: str) -> float:
    """Read `key` with one client.get(key) call; return how long it took.

    The result is milliseconds, as a float that keeps its fraction (a Valkey read takes well
    under one millisecond, for example 0.05). Only read: leave the key's value as it is.
    """
    started = time.perf_counter()
    try:
        client.get(key)
    except Exception:  # a failed read still took time
        pass
    return (time.perf_counter() - started) * 1000


ANSWERS: dict[str, str] = {
    "q1": "b",  # the primary store does the slow work: disk, network, query execution
    "q2": "a",  # RAM and little work per command
    "q3": "b",  # beside the database; the application decides where to read
}
