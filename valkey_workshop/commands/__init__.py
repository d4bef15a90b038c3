"""What the commands do: one module per verb, each returning data for the CLI to render."""
