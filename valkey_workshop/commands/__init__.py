"""One module per command that grew beyond a few lines (``verify``); the CLI calls these."""
