"""The tool's own version, as ``--version``, ``doctor`` and JSON documents show it."""

from __future__ import annotations

#: The version of this source tree (the package re-exports it as ``valkey_workshop.__version__``).
__version__ = "0.1.0"
DISTRIBUTION = "valkey-workshop"


def workshop_version() -> str:
    """The installed distribution's version; the package's ``__version__`` when the code runs
    from a checkout that was never installed (no metadata to read)."""
    import importlib.metadata  # noqa: PLC0415 - only the commands that show it pay for it

    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return __version__
