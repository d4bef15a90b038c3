"""Checks for step 05 (tracking)."""

import time
from pathlib import Path

import valkey

from valkey_workshop.checking.api import CheckContext, check
from valkey_workshop.pyfile import load_file_as_module

pushes = load_file_as_module(Path(__file__).with_name("pushes.py"), "workshop_tracking_pushes")

KEY = "workshop:tracking:price"
PREFIX = "workshop:tracking:bcast:"
REPEATS = 20


def _server_gets(ctx):
    return int(ctx.server.info("commandstats").get("cmdstat_get", {}).get("calls", 0))


def _learner_client(ctx):
    client = ctx.call("connect_with_client_cache", **ctx.connection_kwargs())
    if not isinstance(client, valkey.Valkey):
        ctx.fail(
            f"connect_with_client_cache returned {type(client).__name__}; expected a valkey.Valkey."
        )
    return client


def _protocol(client):
    value = client.connection_pool.connection_kwargs.get("protocol")
    return int(value) if value not in (None, "") else 2


def _tracking_flags(ctx, client):
    """CLIENT LIST flags of the learner's connections ('t' means tracking is on)."""
    client_id = client.client_id()
    for entry in ctx.server.client_list():
        if int(entry["id"]) == client_id:
            return entry["flags"]
    return ""


@check(
    "local-hits",
    "Repeated GETs are served locally, with tracking on",
    hint=1,
    lesson="RESP3, or RESP2 with REDIRECT",
)
def local_hits(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "100")
    client = _learner_client(ctx)
    try:
        first = client.get(KEY)
        ctx.require(
            first == "100", f"GET {KEY} through your client returned {first!r}; expected '100'."
        )
        before = _server_gets(ctx)
        for _ in range(REPEATS):
            client.get(KEY)
        reached = _server_gets(ctx) - before
        protocol = _protocol(client)
        if reached >= REPEATS // 2:
            if protocol != 3 and "t" in _tracking_flags(ctx, client):
                ctx.fail(
                    f"All {reached} repeated GETs reached the server. Your client speaks RESP2 "
                    "with CLIENT TRACKING ON: the server says OK, but RESP2 cannot carry "
                    "invalidation messages on that connection, so no invalidation ever arrives "
                    "and valkey-py keeps no cache. Use protocol=3 with cache_enabled=True."
                )
            if protocol == 3:
                ctx.fail(
                    f"All {reached} repeated GETs reached the server: RESP3 alone caches nothing. "
                    "Add cache_enabled=True so valkey-py keeps the local copies."
                )
            ctx.fail(
                f"All {reached} repeated GETs reached the server: there is no client-side cache. "
                "Use protocol=3 and cache_enabled=True."
            )
        if reached:
            ctx.fail(f"{reached} of {REPEATS} repeated GETs still reached the server.")
        info = client.execute_command("CLIENT", "TRACKINGINFO")
        flags = info.get("flags", []) if isinstance(info, dict) else []
        if "on" not in flags:
            ctx.fail(
                "GETs are answered locally, but the server is not tracking this client "
                f"(CLIENT TRACKINGINFO flags: {flags}): nothing will ever tell it a value changed."
            )
    finally:
        client.close()


@check(
    "invalidated-after-write",
    "After another client's write, your client sees the new value",
    hint=1,
    lesson="How it works",
)
def invalidated_after_write(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "100")
    client = _learner_client(ctx)
    try:
        for _ in range(3):
            client.get(KEY)
        ctx.another_client().set(KEY, "90")
        seen = None
        # valkey-py reads pending invalidations just before a cached lookup; give the push a
        # moment to arrive, as a real application's next request would.
        for _ in range(10):
            time.sleep(0.02)
            seen = client.get(KEY)
            if seen == "90":
                return
        ctx.fail(
            f"Another client changed {KEY} to '90', but your client still returns {seen!r}: its "
            "local copy is never invalidated. Only server-assisted tracking (RESP3, "
            "cache_enabled=True) drops stale copies."
        )
    finally:
        client.close()


@check(
    "prefix-broadcast",
    "enable_prefix_broadcast: BCAST with PREFIX, pushes for the prefix only",
    hint=3,
    lesson="Modes",
)
def prefix_broadcast(ctx: CheckContext) -> None:
    watched, other = f"{PREFIX}P1", "workshop:tracking:elsewhere"
    ctx.use_keys(watched, other)
    client = valkey.Valkey(
        **ctx.connection_kwargs(), protocol=3, single_connection_client=True, decode_responses=True
    )
    try:
        ctx.call("enable_prefix_broadcast", client, [PREFIX])
        info = client.execute_command("CLIENT", "TRACKINGINFO")
        flags, prefixes = info.get("flags", []), info.get("prefixes", [])
        if "on" not in flags:
            ctx.fail(f"Tracking is off after enable_prefix_broadcast (flags: {flags}).")
        if "bcast" not in flags:
            ctx.fail(
                f"Tracking is on in default mode (flags: {flags}), not BCAST: the server only "
                "reports keys this connection has read. Broadcasting reports every write under "
                "the prefixes: client_tracking_on(bcast=True, prefix=...)."
            )
        if not [prefix for prefix in prefixes if prefix]:  # BCAST alone reports one empty prefix
            ctx.fail(
                "BCAST is on without PREFIX: this connection is told about every write to every "
                f"key on the server. Pass prefix=[{PREFIX!r}]."
            )
        if sorted(prefixes) != [PREFIX]:
            ctx.fail(f"Tracked prefixes are {prefixes}; expected [{PREFIX!r}].")
        pushes.invalidated_keys(client, 0.05)  # drain anything from the set-up
        writer = ctx.another_client()
        writer.set(watched, "never read by this connection")
        writer.set(other, "not under the prefix")
        keys = pushes.invalidated_keys(client)
        if watched not in keys:
            ctx.fail(f"A write to {watched} brought no invalidation push (got {keys}).")
        if other in keys:
            ctx.fail(f"A write to {other}, outside the prefix, was pushed too (got {keys}).")
    finally:
        client.close()
