"""The only package that imports Rich: one theme, a stdout and a stderr console, the views."""

from valkey_workshop.render.console import err_console, out_console
from valkey_workshop.render.theme import THEME

__all__ = ["THEME", "err_console", "out_console"]
