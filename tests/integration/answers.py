"""Learner files for the checker's tests: step 02's reference solution, with hostile lines
run first in update_product() (test_verdicts.py, test_forkserver.py)."""

from __future__ import annotations

import textwrap

from valkey_workshop.content import Module

UPDATE = "def update_product(client, db, product_id: str, changes: dict) -> dict:\n"


def solution(module3: Module) -> str:
    """Step 02's reference solution."""
    return module3.step("cache-aside").solution.read_text(encoding="utf-8")


def with_update_body(module3: Module, body: str) -> str:
    """The reference solution, with ``body`` run first in update_product()."""
    code = solution(module3)
    assert UPDATE in code
    return code.replace(UPDATE, UPDATE + textwrap.indent(textwrap.dedent(body), "    "))
