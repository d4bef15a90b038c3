"""One module per verb that outgrew operations.py: each returns data; the CLI renders it."""
