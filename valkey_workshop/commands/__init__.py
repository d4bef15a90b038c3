"""The use cases: one module per verb or concern (check, hint, solution, skip, ...). Each
returns a result from :mod:`valkey_workshop.results` carrying its data, its messages and its
exit code; the CLI renders it."""
