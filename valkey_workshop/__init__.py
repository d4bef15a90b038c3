"""valkey-workshop: an interactive terminal lab runner for Valkey trainings."""

from valkey_workshop.labdb import ProductDatabase

__version__ = "0.1.0"

__all__ = ["ProductDatabase", "__version__"]
