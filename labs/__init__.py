"""Course content, shipped as data inside the wheel (as ``valkey_workshop._labs``).

Each module is a folder with ``module.toml`` and one folder per step; nothing here is imported
by the engine as code except through the content loader.
"""
