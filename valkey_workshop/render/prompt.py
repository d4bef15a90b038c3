"""How ``workshop cli`` shows a reply: as valkey-cli does, then its latency."""

from __future__ import annotations

from rich.text import Text

from valkey_workshop.render.format import latency
from valkey_workshop.render.theme import FAIL, MUTED, WARN
from valkey_workshop.results.prompt import Reply


def reply_view(reply: Reply, echo: bool = False) -> Text:
    """The reply's lines, then ``(latency)`` (or why it was not sent); ``echo`` shows the
    command first, for replies to a pipe."""
    text = Text()
    if echo:
        text.append(f"> {reply.command}\n", style=MUTED)
    if reply.note is not None and reply.latency_us is not None:
        text.append(f"! {reply.note}: allowed by --allow-writes\n", style=WARN)
    text.append("\n".join(reply.lines), style=FAIL if reply.error else "")
    if reply.latency_us is not None:
        text.append(f"  ({latency(reply.latency_us)})", style=MUTED)
    elif reply.note is not None:
        text.append(f"  ({reply.note})", style=MUTED)
    return text
