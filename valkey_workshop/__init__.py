"""valkey-workshop: an interactive terminal lab runner for Valkey trainings."""

from __future__ import annotations

from valkey_workshop.version import __version__

# Not `from typing import TYPE_CHECKING`: the console script imports this package before it
# can catch Ctrl-C, and `typing` alone takes milliseconds to import. Type checkers treat any
# name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from valkey_workshop.labdb import ProductDatabase

__all__ = ["ProductDatabase", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the console script imports this package before it can catch
    # Ctrl-C, so the package itself stays as light as an empty module.
    if name == "ProductDatabase":
        from valkey_workshop.labdb import ProductDatabase  # noqa: PLC0415

        return ProductDatabase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
