"""Mutation operators on small samples: exactly the expected one-edit mutants, stable ids."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from valkey_workshop.mutation.engine import select
from valkey_workshop.mutation.operators import (
    OPERATOR_NAMES,
    OPERATORS,
    Edit,
    Mutant,
    Operator,
    Where,
    generate,
)


def code(text: str) -> str:
    """``text`` as the generator writes code (unparsed), for exact comparisons."""
    return ast.unparse(ast.parse(textwrap.dedent(text))) + "\n"


def by(source: str, operator: str) -> dict[str, str]:
    """The mutants one operator makes of ``source``: description → mutated code."""
    found = [m for m in generate(textwrap.dedent(source)).mutants if m.operator == operator]
    descriptions = [m.description for m in found]
    assert len(set(descriptions)) == len(descriptions), descriptions
    return {m.description: m.source for m in found}


def test_every_operator_has_a_unique_name_and_a_summary() -> None:
    assert len(set(OPERATOR_NAMES)) == len(OPERATORS)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in OPERATOR_NAMES)
    assert all(operator.summary for operator in OPERATORS)


# -- valkey-py operators ----------------------------------------------------------------
def test_drop_keyword_drops_each_keyword_once() -> None:
    source = """
    def f(client, key, value, **options):
        client.set(key, value, ex=10, nx=True)
        return Valkey(**options, protocol=3)
    """
    assert by(source, "drop-keyword") == {
        "drop ex=10": code(
            """
            def f(client, key, value, **options):
                client.set(key, value, nx=True)
                return Valkey(**options, protocol=3)
            """
        ),
        "drop nx=True": code(
            """
            def f(client, key, value, **options):
                client.set(key, value, ex=10)
                return Valkey(**options, protocol=3)
            """
        ),
        "drop **options": code(
            """
            def f(client, key, value, **options):
                client.set(key, value, ex=10, nx=True)
                return Valkey(protocol=3)
            """
        ),
        "drop protocol=3": code(
            """
            def f(client, key, value, **options):
                client.set(key, value, ex=10, nx=True)
                return Valkey(**options)
            """
        ),
    }


def test_read_then_write_replaces_atomic_options_with_a_read_and_a_write() -> None:
    source = """
    def f(client, key, value):
        client.set(key, value, keepttl=True)
        ok = client.set(key, value, nx=True)
        client.expire(key, 5, nx=True)
        client.pexpire(key, 5, gt=True)
    """
    mutants = by(source, "read-then-write")
    assert mutants["keepttl=True → ex=max(ttl(key), 1) (TTL read first)"] == code(
        """
        def f(client, key, value):
            client.set(key, value, ex=max(client.ttl(key), 1))
            ok = client.set(key, value, nx=True)
            client.expire(key, 5, nx=True)
            client.pexpire(key, 5, gt=True)
        """
    )
    assert mutants["nx=True → not exists(key) and set(...) (read, then write)"] == code(
        """
        def f(client, key, value):
            client.set(key, value, keepttl=True)
            ok = not client.exists(key) and client.set(key, value)
            client.expire(key, 5, nx=True)
            client.pexpire(key, 5, gt=True)
        """
    )
    assert mutants["nx=True → ttl(key) == -1 and expire(...) (read, then write)"] == code(
        """
        def f(client, key, value):
            client.set(key, value, keepttl=True)
            ok = client.set(key, value, nx=True)
            client.ttl(key) == -1 and client.expire(key, 5)
            client.pexpire(key, 5, gt=True)
        """
    )
    assert mutants["gt=True → pttl(key) < 5 and pexpire(...) (read, then write)"] == code(
        """
        def f(client, key, value):
            client.set(key, value, keepttl=True)
            ok = client.set(key, value, nx=True)
            client.expire(key, 5, nx=True)
            client.pttl(key) < 5 and client.pexpire(key, 5)
        """
    )
    assert len(mutants) == 4


def test_add_condition_adds_one_option_where_there_is_none() -> None:
    source = """
    def f(client, key):
        client.expire(key, 5)
        client.set(key, 1, xx=True)
    """
    mutants = by(source, "add-condition")
    assert sorted(mutants) == [
        f"expire(...) → expire(..., {o}=True)" for o in ("gt", "lt", "nx", "xx")
    ]
    assert mutants["expire(...) → expire(..., xx=True)"] == code(
        """
        def f(client, key):
            client.expire(key, 5, xx=True)
            client.set(key, 1, xx=True)
        """
    )


def test_set_then_expire_splits_the_atomic_expiry() -> None:
    source = """
    def f(client, key, value, seconds):
        client.set(key, value, ex=seconds)
        client.psetex(key, 100, value)
    """
    assert by(source, "set-then-expire") == {
        "set(..., ex=...) → set(...) and expire(...)": code(
            """
            def f(client, key, value, seconds):
                client.set(key, value) and client.expire(key, seconds)
                client.psetex(key, 100, value)
            """
        ),
        "psetex(...) → set(...) and pexpire(...)": code(
            """
            def f(client, key, value, seconds):
                client.set(key, value, ex=seconds)
                client.set(key, value) and client.pexpire(key, 100)
            """
        ),
    }


def test_time_unit_confuses_seconds_and_milliseconds() -> None:
    source = """
    def f(client, key):
        client.set(key, 1, ex=5)
        return client.ttl(key)
    """
    assert by(source, "time-unit") == {
        "ex= → px=": code(
            """
            def f(client, key):
                client.set(key, 1, px=5)
                return client.ttl(key)
            """
        ),
        "ttl(...) → pttl(...)": code(
            """
            def f(client, key):
                client.set(key, 1, ex=5)
                return client.pttl(key)
            """
        ),
    }


def test_first_only_keeps_the_first_element_of_literals_and_list_arguments() -> None:
    source = """
    SETTINGS = ("a", "b")

    def f(client, prefixes: list[str], names):
        try:
            client.client_tracking_on(bcast=True, prefix=prefixes)
            client.mget(names)
        except (KeyError, ValueError):
            pass
    """
    mutants = by(source, "first-only")
    assert set(mutants) == {
        "only the first element",
        "prefixes → only its first element",
        "prefixes → prefixes[0] (one item, not a list)",
    }  # not `names` (no list annotation), not the exception tuple
    assert "SETTINGS = ('a',)" in mutants["only the first element"]
    assert "prefix=prefixes[:1])" in mutants["prefixes → only its first element"]
    assert "prefix=prefixes[0])" in mutants["prefixes → prefixes[0] (one item, not a list)"]


def test_drop_element_and_empty_collection() -> None:
    source = """
    def f(client):
        for setting in ("x", "y", "z"):
            client.config_set(setting, "yes")
    """
    assert sorted(by(source, "drop-element")) == [
        "left out: 'x'",
        "left out: 'y'",
        "left out: 'z'",
    ]
    assert "in ('x', 'z'):" in by(source, "drop-element")["left out: 'y'"]
    assert by(source, "empty-collection") == {
        "emptied": code(
            """
            def f(client):
                for setting in ():
                    client.config_set(setting, "yes")
            """
        )
    }


PIPELINE = """
def load(client, items, batch_size):
    pipe = client.pipeline(transaction=False)
    for n, item in enumerate(items, 1):
        pipe.set(item, 1)
        if n % batch_size == 0:
            pipe.execute()
    pipe.execute()
"""


def test_move_execute_moves_it_out_of_the_loop_or_into_it() -> None:
    assert by(PIPELINE, "move-execute") == {
        "pipe.execute() moved out of the loop (after it)": code(
            """
            def load(client, items, batch_size):
                pipe = client.pipeline(transaction=False)
                for n, item in enumerate(items, 1):
                    pipe.set(item, 1)
                    if n % batch_size == 0:
                        pass
                pipe.execute()
                pipe.execute()
            """
        ),
        "pipe.execute() moved into the loop above it": code(
            """
            def load(client, items, batch_size):
                pipe = client.pipeline(transaction=False)
                for n, item in enumerate(items, 1):
                    pipe.set(item, 1)
                    if n % batch_size == 0:
                        pipe.execute()
                    pipe.execute()
            """
        ),
    }


def test_delete_to_noop_and_unlink_to_delete() -> None:
    source = """
    def f(client, key):
        client.unlink(key)
    """
    assert by(source, "delete-noop") == {
        "unlink(...) → nothing deleted (0)": code("def f(client, key):\n    0\n")
    }
    assert by(source, "unlink-to-delete") == {
        "unlink(...) → delete(...)": code("def f(client, key):\n    client.delete(key)\n")
    }


def test_one_by_one_sends_a_round_trip_per_key() -> None:
    source = "def f(client, keys):\n    return client.mget(keys)\n"
    assert by(source, "one-by-one") == {
        "mget(keys) → [get(key) for key in keys]": code(
            "def f(client, keys):\n    return [client.get(_key) for _key in keys]\n"
        )
    }


def test_config_value_flips_flags_and_confuses_policies() -> None:
    source = """
    '''Docstrings are not settings: "yes".'''
    POLICY = "allkeys-lru"

    def f(client):
        client.config_set("lazyfree-lazy-user-del", "yes")
    """
    assert sorted(by(source, "config-value")) == [
        "'allkeys-lru' → 'allkeys-lfu'",
        "'allkeys-lru' → 'volatile-lru'",
        "'yes' → 'no'",
    ]


def test_drop_json() -> None:
    source = "import json\n\ndef f(client, key):\n    return json.loads(client.get(key))\n"
    assert by(source, "drop-json") == {
        "json.loads(x) → x": code(
            "import json\n\ndef f(client, key):\n    return client.get(key)\n"
        )
    }


# -- generic operators ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("0", ["0 → 1"]),
        ("1", ["1 → 2", "1 → 0"]),
        ("5", ["5 → 6", "5 → 0"]),
        ("1000", ["1000 → 0", "1000 → 10000", "1000 → 100"]),
        ("-2", ["-2 → -1", "-2 → 0", "-2 → 2"]),
        ("0.5", ["0.5 → 1.5", "0.5 → 0"]),
    ],
)
def test_number_variants(literal: str, expected: list[str]) -> None:
    mutants = generate(f"def f(x):\n    return x == {literal}\n").mutants
    assert [m.description for m in mutants if m.operator == "number"] == expected


def test_number_turns_resp3_into_resp2() -> None:
    assert list(by("def f():\n    return Valkey(protocol=3)\n", "number")) == ["3 → 2"]


def test_comparison_not_and_or_return() -> None:
    source = """
    def f(a, b):
        if a is not None and not b:
            return a
        return None
    """
    assert list(by(source, "negate-comparison")) == ["is not → is"]
    assert "if a is None and (not b):" in by(source, "negate-comparison")["is not → is"]
    assert by(source, "remove-not")["not x → x"] == code(
        """
        def f(a, b):
            if a is not None and b:
                return a
            return None
        """
    )
    assert "if a is not None or not b:" in by(source, "and-or")["and → or"]
    assert list(by(source, "return-none")) == ["return a → return None"]  # not `return None`


def test_drop_statement_leaves_docstrings_imports_and_definitions() -> None:
    source = '''
    import json
    LIMIT = 3

    def f(client):
        """Doc."""
        client.set("k", 1)
    '''
    mutants = by(source, "drop-statement")
    assert sorted(mutants) == ["removed: LIMIT = 3", "removed: client.set('k', 1)"]
    assert mutants["removed: client.set('k', 1)"] == code(
        '''
        import json
        LIMIT = 3

        def f(client):
            """Doc."""
        '''
    )


def test_drop_statement_puts_pass_in_an_emptied_block() -> None:
    source = "def f(x):\n    if x:\n        x.go()\n    return x\n"
    assert by(source, "drop-statement")["removed: x.go()"] == code(
        "def f(x):\n    if x:\n        pass\n    return x\n"
    )


def test_swap_statements_swaps_neighbours_but_not_the_docstring() -> None:
    source = '''
    def f(db, client, key):
        """Doc."""
        db.write(key)
        client.delete(key)
        return key
    '''
    mutants = by(source, "swap-statements")
    assert len(mutants) == 2
    swapped = mutants["swapped: db.write(key) ⇄ client.delete(key)"]
    assert swapped == code(
        '''
        def f(db, client, key):
            """Doc."""
            client.delete(key)
            db.write(key)
            return key
        '''
    )


# -- the generator: one edit per mutant, stable ids -------------------------------------
SAMPLE = '''
"""A sample solution."""

import json

TTL = 300


def cache(client, key: str, record: dict) -> None:
    client.set(key, json.dumps(record), ex=TTL)


def refresh(client, key: str, value: str) -> None:
    client.set(key, value, keepttl=True)
    client.unlink(key + ":old")
'''


def test_ids_are_deterministic_unique_and_named_after_operator_and_function() -> None:
    first, second = generate(SAMPLE).mutants, generate(SAMPLE).mutants
    assert first == second
    ids = [m.id for m in first]
    assert len(set(ids)) == len(ids)
    for mutant in first:
        assert re.fullmatch(r"[a-z-]+:[A-Za-z_.<>]+:[0-9a-f]{6}", mutant.id), mutant.id
        assert mutant.id.startswith(f"{mutant.operator}:{mutant.function}:")


def test_ids_survive_a_line_added_above_and_an_edit_elsewhere() -> None:
    before = {m.id: m for m in generate(SAMPLE).mutants}
    edited = SAMPLE.replace(
        '"""A sample solution."""',
        '"""A sample solution."""\n\nimport os  # a new line above everything\n',
    ).replace("def cache(", "def helper() -> str:\n    return os.sep\n\n\ndef cache(")
    after = {m.id: m for m in generate(edited).mutants}
    assert set(before) <= set(after)
    for mutant_id, mutant in before.items():
        assert after[mutant_id].line > mutant.line  # reported lines move; ids do not
        assert after[mutant_id].description == mutant.description


def test_identical_sites_get_distinct_ids() -> None:
    source = "def f(client, key):\n    client.set(key, 1, ex=5)\n    client.set(key, 1, ex=5)\n"
    dropped = [m for m in generate(source).mutants if m.operator == "drop-keyword"]
    # Two identical calls: two distinct mutants (not deduplicated: the sources differ).
    assert len(dropped) == 2
    assert len({m.id for m in dropped}) == 2


def test_every_mutant_is_one_edit_of_the_original_and_differs_from_it() -> None:
    original = code(SAMPLE)
    mutants = generate(SAMPLE).mutants
    assert len({m.source for m in mutants}) == len(mutants)
    for mutant in mutants:
        assert mutant.source != original
        compile(mutant.source, "<mutant>", "exec")
        # One edit changes one place: the lines that differ are few and together.
        old, new = original.splitlines(), mutant.source.splitlines()
        changed = [i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
        if len(old) == len(new):
            assert changed and changed[-1] - changed[0] <= 1, mutant


class _BreakOutsideLoop(Operator):
    """Makes code that parses but does not compile: such mutants are discarded."""

    name = "broken"
    summary = "test only"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.Return):
            yield Edit("break", lambda _: ast.Break())


def test_mutants_that_do_not_compile_are_discarded_and_counted() -> None:
    generated = generate("def f():\n    return 1\n", [_BreakOutsideLoop()])
    assert generated.mutants == ()
    assert generated.discarded == 1


def _mutant(operator: str, number: int) -> Mutant:
    return Mutant(f"{operator}:f:{number:06x}", operator, "f", number, "d", "")


def test_select_caps_stably_keeps_declared_ids_and_every_operator() -> None:
    mutants = [_mutant("drop-statement", n) for n in range(40)]
    mutants += [_mutant("time-unit", 100 + n) for n in range(2)]
    keep = frozenset({mutants[39].id})
    chosen = select(mutants, 10, keep)
    assert len(chosen) == 10
    # The choice depends on the ids only, not on the order the operators found them in.
    assert set(chosen) == set(select(list(reversed(mutants)), 10, keep))
    assert mutants[39] in chosen
    assert {m.operator for m in chosen} == {"drop-statement", "time-unit"}
    assert select(mutants[:5], 10, frozenset()) == tuple(mutants[:5])


def test_module_level_constants_name_their_mutants() -> None:
    source = 'POLICY: str = "allkeys-lru"\nSETTINGS = ("a", "b")\n'
    ids = [m.id for m in generate(source).mutants]
    assert any(i.startswith("config-value:POLICY:") for i in ids)
    assert any(i.startswith("first-only:SETTINGS:") for i in ids)
    assert any(i.startswith("drop-statement:SETTINGS:") for i in ids)


def test_add_condition_noloop_and_glob_prefix_for_tracking() -> None:
    source = "def f(client, prefixes: list[str]):\n    client.client_tracking_on(bcast=True, prefix=prefixes)\n"
    assert (
        "prefix=prefixes, noloop=True)"
        in by(source, "add-condition")[
            "client_tracking_on(...) → client_tracking_on(..., noloop=True)"
        ]
    )
    assert by(source, "glob-prefix") == {
        "prefix=... → each prefix + '*'": code(
            "def f(client, prefixes: list[str]):\n"
            "    client.client_tracking_on(bcast=True, prefix=[_prefix + '*' for _prefix in prefixes])\n"
        )
    }


def test_swap_arguments_swaps_neighbouring_positional_arguments_of_methods() -> None:
    source = "def f(client, key, seconds, value):\n    client.setex(key, seconds, value)\n    max(seconds, 1)\n"
    assert by(source, "swap-arguments") == {
        "arguments swapped: key ⇄ seconds": code(
            "def f(client, key, seconds, value):\n    client.setex(seconds, key, value)\n    max(seconds, 1)\n"
        ),
        "arguments swapped: seconds ⇄ value": code(
            "def f(client, key, seconds, value):\n    client.setex(key, value, seconds)\n    max(seconds, 1)\n"
        ),
    }  # not max(): only method calls


# -- learner-error operators ------------------------------------------------------------
LEARNER_SOURCE = """
SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"


def update(client, db, product_id: str, changes: dict, ids: list[str]) -> int:
    record = db.update_product(product_id, changes)
    client.delete(product_id)
    started = time.perf_counter()
    while True:
        try:
            client.watch(product_id)
            break
        except WatchError:
            continue
    if len(ids) > 500:
        return (time.perf_counter() - started) * 1000
    return Valkey(**options, decode_responses=True)
"""


@pytest.mark.parametrize(
    ("operator", "descriptions"),
    [
        ("boundary", {"> → >="}),
        ("arithmetic", {"- → +", "* → /"}),
        ("off-by-one", {"1000 → 999", "1000 → 1001"}),
        ("unit-slip", {"1000 → 1000000", "1000 → 1"}),
        ("flip-bool", {"decode_responses=True → decode_responses=False"}),
        (
            "drop-passed-setting",
            {"**options without password", "**options without host", "**options without port"},
        ),
        ("lua-operator", {"Lua line 1: == → ~="}),
        (
            "single-try",
            {"while True: one pass only", "except ...: continue → raise (no retry)"},
        ),
    ],
)
def test_learner_error_operators(operator: str, descriptions: set[str]) -> None:
    found = by(LEARNER_SOURCE, operator)
    assert descriptions <= set(found), set(found)
    for mutated in found.values():
        compile(mutated, "<mutant>", "exec")


def test_swallow_exception_wraps_server_and_database_calls_only() -> None:
    found = by(LEARNER_SOURCE, "swallow-exception")
    assert set(found) == {
        "try: record = db.update_product(product_id, … except Exception: pass",
        "try: client.delete(product_id) except Exception: pass",
        "try: client.watch(product_id) except Exception: pass",
    }
    assert (
        "    try:\n        client.delete(product_id)\n    except Exception:\n        pass\n"
        in (found["try: client.delete(product_id) except Exception: pass"])
    )


def test_guard_on_argument_guards_a_call_by_its_arguments() -> None:
    # LEARNER_SOURCE names no field of ``changes`` (nor any other): no dict guard.
    found = by(LEARNER_SOURCE, "guard-on-argument")
    assert {
        f"{guard}: client.{call}(product_id)"
        for guard in (
            "if product_id.isascii()",
            "if len(ids) <= 1000",
            "if len(ids) < 2",
        )
        for call in ("delete", "watch")
    } == set(found)


@pytest.mark.parametrize(
    ("source", "guard"),
    [
        # a key the function uses with that argument wins over other keys and constants
        (
            'MODE = "fast"\n\ndef f(client, record: dict, changes: dict) -> None:\n'
            '    x = record["id"]\n    client.delete(changes.get("colour"))\n',
            "if 'colour' in changes",
        ),
        # else a key the module uses with any dict
        (
            'def f(client, changes: dict) -> None:\n    client.delete({"sku": 1})\n',
            "if 'sku' in changes",
        ),
        # else the first identifier-like string constant (docstrings and texts left out)
        (
            'def f(client, changes: dict) -> None:\n    """Doc."""\n'
            '    client.delete("a key:1", "stock")\n',
            "if 'stock' in changes",
        ),
    ],
)
def test_guard_on_a_dict_tests_a_field_the_code_names(source: str, guard: str) -> None:
    found = by(source, "guard-on-argument")
    assert any(description.startswith(f"{guard}:") for description in found), set(found)
    assert not any("'price'" in description for description in found)


def test_guard_on_a_dict_is_skipped_when_the_code_names_no_field() -> None:
    source = 'def f(client, changes: dict) -> None:\n    client.delete("a key:1")\n'
    assert by(source, "guard-on-argument") == {}


def test_setting_name_confuses_neighbours_and_python_spelling() -> None:
    found = by('S = ("lazyfree-lazy-user-del",)\n', "setting-name")
    assert set(found) == {
        "'lazyfree-lazy-user-del' → 'lazyfree-lazy-server-del'",
        "'lazyfree-lazy-user-del' → 'lazyfree-lazy-user-flush'",
        "'lazyfree-lazy-user-del' → 'lazyfree_lazy_user_del'",
    }


def test_module3_has_thirty_mutants_per_step_and_uses_most_operators() -> None:
    used: set[str] = set()
    for solution in sorted((Path(__file__).parents[2] / "labs/module3").glob("*/solution.py")):
        mutants = generate(solution.read_text(encoding="utf-8")).mutants
        assert len(mutants) >= 30, solution
        used |= {mutant.operator for mutant in mutants}
    assert len(used) >= 28
