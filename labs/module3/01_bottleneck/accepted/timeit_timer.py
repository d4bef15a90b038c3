"""Accepted: timeit's default timer, execute_command, a helper function and answers with spaces."""

from timeit import default_timer


def _elapsed_ms(started):
    return 1000.0 * (default_timer() - started)


def measure_database_read(db, product_id):
    started = default_timer()
    db.get_product(product_id)
    return _elapsed_ms(started)


def measure_cache_read(client, key):
    started = default_timer()
    client.execute_command("GET", key)
    return _elapsed_ms(started)


ANSWERS = {"q1": " b", "q2": "a ", "q3": "b"}
