"""Checks for step 07 (lazyfree). They change lazyfree settings and restore them afterwards."""

from pathlib import Path

from valkey_workshop.checking import inspect
from valkey_workshop.checking.api import CheckContext, check
from valkey_workshop.pyfile import load_file_as_module

probe = load_file_as_module(Path(__file__).with_name("stall_probe.py"), "workshop_stall_probe")

KEY = "workshop:lazyfree:big"
BASELINE_KEY = "workshop:lazyfree:baseline"
FIELDS = 400_000


def _saved(ctx, names):
    return {name: ctx.server.config_get(name)[name] for name in names}


def _restore(ctx, saved):
    for name, value in saved.items():
        ctx.server.config_set(name, value)


@check(
    "delete-in-background",
    "delete_in_background removes a huge key without stalling the server",
    hint=1,
    lesson="Commands",
)
def delete_in_background(ctx: CheckContext) -> None:
    ctx.use_keys(KEY, BASELINE_KEY)
    saved = _saved(ctx, ["lazyfree-lazy-user-del"])
    try:
        # Like Redis before Valkey 8.0: DEL frees synchronously.
        ctx.server.config_set("lazyfree-lazy-user-del", "no")
        probe.build_big_hash(ctx.server, BASELINE_KEY, FIELDS)
        baseline = probe.measure(ctx.url, lambda: ctx.server.delete(BASELINE_KEY))
        probe.build_big_hash(ctx.server, KEY, FIELDS)
        mine = probe.measure(ctx.url, lambda: ctx.call("delete_in_background", ctx.client, KEY))
        if ctx.server.exists(KEY):
            ctx.fail(f"After delete_in_background the key {KEY} still exists.")
        numbers = (
            f"a {FIELDS:,}-field hash: the server's main thread spent "
            f"{mine.server_seconds * 1000:.2f} ms on your deletion and a concurrent PING waited "
            f"up to {mine.max_ping_seconds * 1000:.1f} ms; a blocking DEL of the same key: "
            f"{baseline.server_seconds * 1000:.1f} ms and {baseline.max_ping_seconds * 1000:.1f} ms"
        )
        # The verdict uses the server's own accounting (INFO commandstats): the PING probe shows
        # the same stall, but on a small machine the background free also slows PINGs a little.
        if mine.server_seconds >= baseline.server_seconds * 0.25:
            used_del = inspect.on_key(ctx.learner_calls(), KEY, {"DEL"})
            why = (
                "DEL frees the whole value before it answers (lazyfree-lazy-user-del is no here, "
                "as on servers before Valkey 8.0), and nobody else is served meanwhile. UNLINK "
                "frees it in the background."
                if used_del
                else "the server was busy freeing the value while other clients waited."
            )
            ctx.fail(f"Deleting {numbers}: {why}")
        ctx.note(f"Deleting {numbers}.")
    finally:
        _restore(ctx, saved)


@check(
    "enable-lazy-freeing",
    "enable_lazy_freeing turns on all five lazyfree settings",
    hint=3,
    lesson="The settings, read from this server now",
)
def enable_lazy_freeing(ctx: CheckContext) -> None:
    saved = _saved(ctx, probe.LAZYFREE_SETTINGS)
    try:
        for name in probe.LAZYFREE_SETTINGS:
            ctx.server.config_set(name, "no")
        ctx.call("enable_lazy_freeing", ctx.client)
        now = _saved(ctx, probe.LAZYFREE_SETTINGS)
        still_off = [name for name, value in now.items() if value != "yes"]
        if still_off:
            ctx.fail(
                f"Still off after enable_lazy_freeing: {', '.join(still_off)}. Each of the five "
                "covers a different moment (evictions, expiries, server-side deletes, DEL, "
                "flushes)."
            )
        ctx.note(f"Before the check turned them off, this server had: {saved}.")
    finally:
        _restore(ctx, saved)
