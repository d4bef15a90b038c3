"""Every style the workshop uses, named once. Meaning never rests on colour alone: each styled
verdict also carries a word or a symbol (PASS/FAIL, ✓/✗), so NO_COLOR loses nothing."""

from rich.theme import Theme

PASS = "workshop.pass"
FAIL = "workshop.fail"
WARN = "workshop.warn"
MUTED = "workshop.muted"
COMMAND = "workshop.command"
LATENCY = "workshop.latency"
HEADING = "workshop.heading"
KEY = "workshop.key"
CODE = "workshop.code"

THEME = Theme(
    {
        PASS: "bold green",
        FAIL: "bold red",
        WARN: "yellow",
        MUTED: "dim",
        COMMAND: "bold cyan",
        LATENCY: "magenta",
        HEADING: "bold",
        KEY: "bold reverse",
        CODE: "cyan",
    }
)
