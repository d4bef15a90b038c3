"""Trainer notes, one Markdown file per module, shipped inside the wheel."""
