"""Rate limiting and counters: a course for valkey-workshop.

This package's folder is a course root: each sub-folder with a ``module.toml`` is a module
(``module4``). The engine finds it through the entry point ``valkey_workshop.courses``.
"""
