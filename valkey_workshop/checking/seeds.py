"""The seed of a check run: generated scenarios draw from it, and ``--seed`` replays it.

Kept apart from the check API so that the runner can read it without importing valkey.
"""

from __future__ import annotations

import os
import secrets

#: The environment variable that carries a run's seed (``workshop check --seed N`` and
#: ``workshop verify --seed N`` set it; without it every step's run draws a new seed).
SEED_VARIABLE = "WORKSHOP_CHECK_SEED"
#: Seeds are whole numbers from 0 up to this (exclusive).
SEED_LIMIT = 10**9


def run_seed() -> int:
    """The seed ``WORKSHOP_CHECK_SEED`` names, else a new one."""
    given = os.environ.get(SEED_VARIABLE, "").strip()
    if given.isdigit():
        return int(given) % SEED_LIMIT
    return secrets.randbelow(SEED_LIMIT)
