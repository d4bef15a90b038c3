"""Step 01 · The bottleneck

Measure one read from the slow product database and one read from Valkey, in milliseconds,
then answer three questions about the difference.

`db` and `client` are handed to your functions by the workshop: `db.get_product(id)` reads
from the slow database, `client` is a valkey-py client connected to the session's server.

Check your work with:  workshop check module3 bottleneck
"""

import time  # time.perf_counter() is the clock to use


def measure_database_read(db, product_id: str) -> float:
    """Read product `product_id` with one db.get_product() call; return how long it took.

    The result is milliseconds, as a float (for example 48.7). Time only that call.
    """
    # TODO: note time.perf_counter() before the read and after it.
    # TODO: return the difference in milliseconds.
    raise NotImplementedError


def measure_cache_read(client, key: str) -> float:
    """Read `key` with one client.get(key) call; return how long it took.

    The result is milliseconds, as a float that keeps its fraction (a Valkey read takes well
    under one millisecond, for example 0.05). Only read: leave the key's value as it is.
    """
    # TODO: the same measurement, around one client.get(key).
    raise NotImplementedError


# Answer each question with one letter.
#
# q1: Where does most of the time of a database read go?
#     a) in the Python client, building the request
#     b) in the primary store: disk I/O, network hops and the work of running the query
#     c) in turning the result into JSON
#
# q2: Why can Valkey answer a GET in microseconds?
#     a) it keeps its whole data set in RAM and does very little work per command
#     b) it compresses every value
#     c) it keeps a copy of the database's files on a faster disk
#
# q3: Where does Valkey sit in a cache-aside design?
#     a) it replaces the database
#     b) beside the database: the application asks Valkey first, the database only on a miss
#     c) behind the database, which forwards reads to Valkey
ANSWERS: dict[str, str] = {
    "q1": "",  # TODO
    "q2": "",  # TODO
    "q3": "",  # TODO
}

