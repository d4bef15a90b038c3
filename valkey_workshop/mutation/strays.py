"""Keys that mutants leave behind, removed after each step's run.

A mutant is wrong code on purpose: with two arguments swapped it writes a key named after a
value, and no check cleans that up. Left there, such keys look like someone else's data, and
a later step that must run on a server holding only the workshop's keys (step 04's eviction)
refuses to. :func:`stray_keys_removed` notes the keys of every database before a step's
mutants run and deletes the keys that appeared meanwhile, in every database (parallel proofs
may use other databases of the same server). Keys that were there before are left alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import valkey

_BATCH = 500


def _database_url(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def _keys(url: str) -> dict[int, set[bytes]]:
    """Every key of every database that holds any, by database number."""
    client = valkey.Valkey.from_url(url, socket_timeout=10)
    try:
        numbers = [int(name[2:]) for name in client.info("keyspace") if name.startswith("db")]
    finally:
        client.close()
    found: dict[int, set[bytes]] = {}
    for number in numbers:
        database = valkey.Valkey.from_url(_database_url(url, number), socket_timeout=10)
        try:
            found[number] = set(database.scan_iter(count=1000))
        finally:
            database.close()
    return found


def _delete(url: str, number: int, keys: list[bytes]) -> None:
    database = valkey.Valkey.from_url(_database_url(url, number), socket_timeout=10)
    try:
        for start in range(0, len(keys), _BATCH):
            database.delete(*keys[start : start + _BATCH])
    finally:
        database.close()


@contextmanager
def stray_keys_removed(url: str) -> Iterator[None]:
    """Run the body, then delete the keys it created on ``url``'s server (every database).

    Where the server does not let us list its keys (INFO or SCAN refused), nothing is
    deleted: without the list of keys from before, no key can be known to be a stray.
    """
    try:
        before: dict[int, set[bytes]] | None = _keys(url)
    except valkey.ValkeyError:
        before = None
    try:
        yield
    finally:
        if before is not None:
            with contextlib.suppress(valkey.ValkeyError):  # best effort: the verdicts stand
                for number, keys in _keys(url).items():
                    strays = sorted(keys - before.get(number, set()))
                    if strays:
                        _delete(url, number, strays)
