"""Generated scenarios in the check API: seeded, replayable, shrunk; the database's faults."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from valkey_workshop.checking.api import CheckContext, CheckFailed, smaller_counts
from valkey_workshop.checking.seeds import SEED_VARIABLE, run_seed
from valkey_workshop.labdb import ProductDatabase

#: Nothing listens here: a context connects only when a command is sent, and these tests
#: send none.
NO_SERVER = "valkey://127.0.0.1:9"


def context(seed: int) -> CheckContext:
    return CheckContext(types.ModuleType("exercise"), Path("exercise.py"), NO_SERVER, seed=seed)


def draws(ctx: CheckContext) -> list[object]:
    ctx.begin()
    return [ctx.changes() for _ in range(5)] + [ctx.random.random()]


def test_the_same_seed_draws_the_same_scenarios_and_new_ids() -> None:
    first, second = context(41), context(41)
    assert draws(first) == draws(second)
    assert draws(first) == draws(second)  # the second check's draws match too
    assert first.product_id("plain") != second.product_id("plain")  # a per-run part
    assert draws(context(41)) != draws(context(42))


def test_changes_touch_any_field_never_only_the_price() -> None:
    ctx = context(7)
    ctx.begin()
    seen = [ctx.changes() for _ in range(200)]
    assert all(changes and set(changes) != {"price"} for changes in seen)
    assert len({name for changes in seen for name in changes}) >= 6


def test_a_generated_product_is_in_the_checks_database() -> None:
    ctx = context(3)
    ctx.begin()
    product = ctx.product_id("unicode")
    assert not product.isascii()
    assert product != product.strip() and " " in product.strip() and ":" in product
    db = ctx.database(latency_seconds=0)
    assert db.get_product(product) == ctx.products[product]
    assert db.update_product(product, {"stock": 1})["stock"] == 1


def test_search_shrinks_to_the_smallest_failing_case_and_names_the_seed() -> None:
    ctx = context(99)
    tried = []

    def trial(size: int) -> str | None:
        tried.append(size)
        return f"{size} ids failed" if size > 500 else None

    with pytest.raises(CheckFailed) as failure:
        ctx.search([1, 10, 4000], trial, lambda n: (n // 2, n - n // 4, n - 1))
    assert str(failure.value).startswith("501 ids failed")
    assert "--seed 99" in str(failure.value)


@pytest.mark.parametrize(("start", "threshold"), [(300, 50), (4000, 500), (2, 1), (7, 6)])
def test_smaller_counts_finds_the_smallest_failing_count_in_few_trials(
    start: int, threshold: int
) -> None:
    ctx = context(5)
    tried = []

    def trial(count: int) -> str | None:
        tried.append(count)
        return f"{count} entries failed" if count > threshold else None

    with pytest.raises(CheckFailed) as failure:
        ctx.search([start], trial, smaller_counts)
    assert str(failure.value).startswith(f"{threshold + 1} entries failed")
    # A binary search: one trial per count down would have taken start - threshold trials.
    assert len(tried) <= 1 + 2 * start.bit_length() ** 2 // 3 + 2
    assert all(count >= 1 for count in tried)


def test_smaller_counts_offers_smaller_counts_only_and_stops_at_the_least() -> None:
    assert list(smaller_counts(1)) == []
    assert list(smaller_counts(2)) == [1]
    assert list(smaller_counts(10, least=4)) == [7, 9]
    assert list(smaller_counts(300)) == [150, 226, 263, 282, 291, 296, 298, 299]


def test_search_passes_when_every_case_holds() -> None:
    context(1).search(range(10), lambda _: None)


def test_the_seed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEED_VARIABLE, "1234")
    assert run_seed() == 1234
    monkeypatch.setenv(SEED_VARIABLE, "not a number")
    assert 0 <= run_seed() < 10**9


def test_an_injected_fault_raises_at_its_call_and_changes_nothing() -> None:
    db = ProductDatabase(latency_seconds=0, faults={2: ConnectionError("down")})
    db.update_product("P1", {"price": 1.0})
    with pytest.raises(ConnectionError):
        db.update_product("P1", {"price": 2.0})
    record = db.get_product("P1")  # call 3: the fault was used once
    assert record is not None
    assert record["price"] == 1.0
    assert [call.operation for call in db.calls] == ["update_product"] * 2 + ["get_product"]
