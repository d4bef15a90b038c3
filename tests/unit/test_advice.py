"""A valkey-py spelling slip is named as one, never as a wrong idea about caching."""

from __future__ import annotations

import pytest

from valkey_workshop.checking.advice import explain


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (
            "TypeError: BasicKeyCommands.set() got an unexpected keyword argument 'keep_ttl'",
            "keepttl=True (one word)",
        ),
        ("TypeError: set() got an unexpected keyword argument 'ttl'", "ex=seconds"),
        ("TypeError: set() got an unexpected keyword argument 'EX'", "ex=seconds (lower case)"),
        (
            "AttributeError: 'str' object has no attribute 'decode' (x.py line 3: c.decode())",
            "decode_responses=True",
        ),
        (
            "ResponseError: value is not an integer or out of range (x.py line 6: "
            "client.setex(key, value, seconds))",
            "setex(key, seconds, value)",
        ),
    ],
)
def test_known_slips_are_named(error: str, says: str) -> None:
    advice = explain(error)
    assert advice is not None
    assert says in advice


@pytest.mark.parametrize(
    "error",
    [
        "TypeError: set() got an unexpected keyword argument 'colour'",
        "ResponseError: value is not an integer or out of range (x.py line 2: client.incr(k))",
        "KeyError: 'id'",
    ],
)
def test_other_errors_get_no_advice(error: str) -> None:
    assert explain(error) is None
