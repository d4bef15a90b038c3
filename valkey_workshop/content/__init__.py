"""Lab content: validated, versioned data (TOML metadata, Markdown lessons, Python files)."""

from valkey_workshop.content.loader import available_modules, labs_root, load_module
from valkey_workshop.content.models import FORMAT_VERSION, Module, Section, Step, WrongAnswer

__all__ = [
    "FORMAT_VERSION",
    "Module",
    "Section",
    "Step",
    "WrongAnswer",
    "available_modules",
    "labs_root",
    "load_module",
]
