"""Checks for step 05 (tracking)."""

import ast
import contextlib
import time
from pathlib import Path

import valkey

from valkey_workshop.checking import faults
from valkey_workshop.checking.api import CheckContext, CheckFailed, check
from valkey_workshop.pyfile import load_file_as_module

pushes = load_file_as_module(Path(__file__).with_name("pushes.py"), "workshop_tracking_pushes")

KEY = "workshop:tracking:price"
PREFIXES = (
    "workshop:tracking:bcast:a:",
    "workshop:tracking:bcast:b:",
    "workshop:tracking:bcast:c:",
)
OUTSIDE = "workshop:tracking:elsewhere"
REPEATS = 20
#: Rounds of REPEATS GETs taken again where only a server-wide count exists (Valkey < 8.1).
NOISY_RETRIES = 2


def _commands_counter(ctx, client):
    """A function counting the commands the server has received so far from `client`'s
    connection: its own `tot-cmds` (Valkey 8.1+), so that other work on a shared server does
    not count; else (older servers) the server-wide GET count. With whether it is the
    connection's own count."""
    client_id = client.client_id()

    def own():
        for entry in ctx.server.client_list():
            if int(entry["id"]) == client_id:
                return int(entry["tot-cmds"])
        return 0

    def server_gets():
        return int(ctx.server.info("commandstats").get("cmdstat_get", {}).get("calls", 0))

    probe = next((e for e in ctx.server.client_list() if int(e["id"]) == client_id), {})
    return (own, True) if "tot-cmds" in probe else (server_gets, False)


def _last_command(ctx, client_id):
    """The last command the server received on connection `client_id` (CLIENT LIST cmd=),
    lower case; every server version has it, unlike a per-connection count."""
    for entry in ctx.server.client_list():
        if int(entry["id"]) == client_id:
            return str(entry.get("cmd", "")).lower()
    return ""


def _repeated_gets_reaching(client, counted):
    """How many of REPEATS GETs of KEY through `client` the server counted."""
    before = counted()
    for _ in range(REPEATS):
        client.get(KEY)
    return counted() - before


#: What a server that requires a password answers a connection that has not given it.
_AUTH_REFUSALS = ("NOAUTH", "WRONGPASS", "Authentication required", "invalid password")


def _learner_client(ctx):
    given = ctx.connection_kwargs()
    client = ctx.call("connect_with_client_cache", **given)
    if not isinstance(client, valkey.Valkey):
        ctx.fail(
            f"connect_with_client_cache returned {type(client).__name__}; expected a valkey.Valkey."
        )
    _require_connects(ctx, client, given)
    used = client.connection_pool.connection_kwargs
    changed = [
        name
        for name in ("host", "port", "password", "username", "db")
        if given.get(name) not in (None, "") and used.get(name) != given[name]
    ]
    if changed:
        client.close()
        ctx.fail(
            f"The client connect_with_client_cache built does not use {', '.join(changed)} "
            "from connection_kwargs (it works here only by chance: on another machine or "
            "server it reaches the wrong place). Pass every setting on: "
            "valkey.Valkey(**connection_kwargs, ...)."
        )
    return client


def _require_connects(ctx, client, given):
    """Fail, naming the setting left out, when the learner's client cannot even talk to the
    server: its refusal is about the connection settings, not about the server or tracking."""
    try:
        client.ping()
    except (valkey.ConnectionError, valkey.ResponseError) as error:
        text = str(error)
        used = client.connection_pool.connection_kwargs
        dropped = [
            name
            for name in ("password", "username", "ssl", "host", "port", "db")
            if given.get(name) not in (None, "", False) and used.get(name) in (None, "", False)
        ]
        client.close()
        if isinstance(error, valkey.AuthenticationError) or any(
            refusal.lower() in text.lower() for refusal in _AUTH_REFUSALS
        ):
            if "username" in dropped and "password" not in dropped:
                # The password belongs to the ACL user given: without the name, the server
                # checks it against the default user's.
                left_out = "the username (the password given is that ACL user's)"
            else:
                left_out = "password" if "password" in dropped else "the password"
            ctx.fail(
                f"The server refused the client connect_with_client_cache built ({text[:80]}): "
                f"it was built without {left_out} from connection_kwargs. Pass every setting "
                "on: valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, "
                "decode_responses=True)."
            )
        if dropped:
            ctx.fail(
                "The client connect_with_client_cache built cannot reach the server "
                f"({text[:80]}): it leaves out {', '.join(dropped)} from connection_kwargs. "
                "Pass every setting on: valkey.Valkey(**connection_kwargs, ...)."
            )
        raise


def _require_text(ctx, got, expected, what):
    """A bytes reply is named as such: the value may be right, only its type is not."""
    if isinstance(got, bytes):
        ctx.fail(
            f"{what} returned {got!r}: bytes, not str. The client does not decode replies; "
            "pass decode_responses=True to valkey.Valkey(...) (next to protocol=3 and "
            "cache_enabled=True) so that GET returns str."
        )
    if got is None:
        ctx.fail(
            f"{what} returned None, though the key is set on the workshop's server: build the "
            "client from the connection settings given, valkey.Valkey(**connection_kwargs, ...)."
        )
    ctx.require(got == expected, f"{what} returned {got!r}; expected {expected!r}.")


def _passes_keyword(ctx, name):
    """Whether the learner's file passes `name=` to some call: read only to word a diagnosis,
    never to decide a verdict."""
    try:
        tree = ast.parse(ctx.exercise_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(
        keyword.arg == name
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
    )


def _judge_cache_size(ctx, settings):
    size = settings.get("cache_max_size")
    if settings.get("cache_enabled") and isinstance(size, int) and size < 1:
        # valkey-py then fails inside its own cache (IndexError) on the first GET.
        ctx.fail(
            f"Your client has cache_max_size={size}: a local cache with room for no entry. "
            "valkey-py cannot store even one (its first GET fails inside the cache). Leave "
            "cache_max_size at its default, or give a positive number of entries."
        )


def _get_not_cacheable(settings):
    """Why valkey-py's cache settings keep GET out of the local cache, or None. Both lists
    name commands (valkey-py's defaults allow GET), not keys."""
    if not settings.get("cache_enabled"):
        return None
    deny = settings.get("cache_deny_list") or []
    allow = settings.get("cache_allow_list") or []
    if "GET" in deny:
        return (
            "your cache_deny_list names GET, so valkey-py never caches a GET reply. The list "
            "names commands kept out of the cache; leave it at its default."
        )
    if allow and "GET" not in allow:
        return (
            f"your cache_allow_list is {list(allow)[:4]!r}, without GET, so valkey-py caches "
            "no GET reply. The list names the commands that may be cached (not keys or key "
            "prefixes); leave it at its default, which allows GET."
        )
    return None


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


#: The database number the every-setting check asks for (any but 0, the default).
OTHER_DB = 3


def _throwaway_user(ctx):
    """An ACL user (name, password) made for this check, with the rights a cached client
    needs; None when the server refuses ACL SETUSER (a managed server, a user without rights)."""
    name = f"workshop-check-{ctx.run_tag}"
    password = f"pw-{ctx.run_tag}-{ctx.random.randint(10**8, 10**9)}"
    try:
        ctx.server.execute_command(
            "ACL", "SETUSER", name, "reset", "on", f">{password}", "~*", "&*", "+@all"
        )
    except valkey.ResponseError:
        return None
    return name, password


def _other_db_usable(ctx):
    """Whether the server lets a connection use database OTHER_DB (one database on a cluster
    or a managed server)."""
    probe = ctx.another_client(db=OTHER_DB)
    try:
        probe.ping()
    except valkey.ResponseError:
        return False
    finally:
        probe.close()
    return True


@check(
    "every-setting-passed-on",
    "connect_with_client_cache passes on every connection setting: an ACL user, a database",
    hint=1,
    lesson="RESP3, or RESP2 with REDIRECT",
)
def every_setting_passed_on(ctx: CheckContext) -> None:
    """connection_kwargs with an ACL username and password and a database other than 0: the
    connection the learner's client opens must log in as that user and use that database."""
    given = ctx.connection_kwargs()
    wanted = {}
    user = _throwaway_user(ctx)
    try:
        if user is not None:
            given["username"], given["password"] = user
            wanted["username"] = user[0]
        if _other_db_usable(ctx):
            given["db"] = OTHER_DB
            wanted["db"] = OTHER_DB
        if not wanted:
            ctx.note("This server allows neither a new ACL user nor another database.")
            return
        client = ctx.call("connect_with_client_cache", **given)
        if not isinstance(client, valkey.Valkey):
            ctx.fail(
                "connect_with_client_cache returned "
                f"{type(client).__name__}; expected a valkey.Valkey."
            )
        try:
            _require_connects(ctx, client, given)
            info = client.client_info()
        finally:
            client.close()
        seen = {"username": str(info.get("user")), "db": int(info.get("db", 0))}
        dropped = [name for name, value in wanted.items() if seen[name] != value]
        if dropped:
            shown = ", ".join(f"{name}={given[name]!r}" for name in dropped)
            ctx.fail(
                f"connect_with_client_cache was given {shown}, but its client's connection "
                f"uses {', '.join(f'{name}={seen[name]!r}' for name in dropped)}: it dropped "
                f"{' and '.join(dropped)} from connection_kwargs. Pass every setting on: "
                "valkey.Valkey(**connection_kwargs, protocol=3, cache_enabled=True, "
                "decode_responses=True)."
            )
    finally:
        if user is not None:
            ctx.server.acl_deluser(user[0])


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
        _judge_cache_size(ctx, client.connection_pool.connection_kwargs)
        _require_text(ctx, client.get(KEY), "100", f"GET {KEY} through your client")
        counted, own = _commands_counter(ctx, client)
        if not own:
            # Its connection's last command is now CLIENT ID, which no client caches.
            client_id = client.client_id()
        reached = _repeated_gets_reaching(client, counted)
        for _ in range(0 if own else NOISY_RETRIES):
            if reached == 0:
                break
            # A server-wide count also holds other clients' GETs (proofs run side by side on a
            # shared server): keep the quietest round. A client without a cache sends every
            # GET in every round.
            reached = min(reached, _repeated_gets_reaching(client, counted))
        if not own and reached and _last_command(ctx, client_id) != "get":
            # The connection's own last command says no GET reached the server: the count
            # held other clients' GETs only (once a right answer failed so, on Redis 7.0).
            reached = 0
        protocol = _protocol(client)
        if reached >= REPEATS // 2:
            if protocol != 3 and "t" in _tracking_flags(ctx, client):
                ctx.fail(
                    f"All {reached} repeated GETs reached the server. Your client speaks RESP2 "
                    "with CLIENT TRACKING ON: the server says OK, but RESP2 cannot carry "
                    "invalidation messages on that connection, so no invalidation ever arrives "
                    "and valkey-py keeps no cache. Use protocol=3 with cache_enabled=True."
                )
            if (
                protocol == 3
                and _passes_keyword(ctx, "cache_enabled")
                and _passes_keyword(ctx, "connection_pool")
            ):
                ctx.fail(
                    f"All {reached} repeated GETs reached the server: your cache_enabled=True "
                    "never reached the connections. Given to Valkey(connection_pool=...) beside "
                    "a pool, valkey-py silently ignores it: pass it to the ConnectionPool(...) "
                    "itself, or to valkey.Valkey(...) with the connection settings and no pool."
                )
            listed = _get_not_cacheable(client.connection_pool.connection_kwargs)
            if protocol == 3 and listed:
                ctx.fail(f"All {reached} repeated GETs reached the server: {listed}")
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


def _poll(client, wanted):
    """What the client reads once the change reached it, or after 0.2 s, the last value read.

    valkey-py reads pending invalidations just before a cached lookup; give the push a moment
    to arrive, as a real application's next request would."""
    seen = None
    for _ in range(10):
        time.sleep(0.02)
        seen = client.get(KEY)
        if seen == wanted:
            break
    return seen


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
        writer = ctx.another_client()
        writer.set(KEY, "90")
        seen = _poll(client, "90")
        if isinstance(seen, bytes):
            _require_text(ctx, seen, "90", f"After another client's write, GET {KEY}")
        if seen != "90":
            ctx.fail(
                f"Another client changed {KEY} to '90', but your client still returns {seen!r}: "
                "its local copy is never invalidated. Only server-assisted tracking (RESP3, "
                "cache_enabled=True) drops stale copies."
            )
        writer.delete(KEY)
        seen = _poll(client, None)
        if seen is not None:
            ctx.fail(
                f"Another client deleted {KEY}, but your client still returns {seen!r}: a DEL "
                "must invalidate the local copy like any write."
            )
    finally:
        client.close()


def _enable(ctx, client, prefixes):
    try:
        ctx.call("enable_prefix_broadcast", client, list(prefixes))
    except CheckFailed as failure:
        syntax = "syntax" in str(failure).lower() and len(prefixes) > 1
        repeat = " Each prefix needs a PREFIX of its own: PREFIX a PREFIX b." if syntax else ""
        ctx.fail(f"With {len(prefixes)} prefixes {list(prefixes)}: {failure}{repeat}")


def _judge_tracking_info(ctx, client, asked):
    info = client.execute_command("CLIENT", "TRACKINGINFO")
    flags, prefixes = info.get("flags", []), info.get("prefixes", [])
    with_n = f"With {len(asked)} prefix{'es' if len(asked) > 1 else ''}"
    if "on" not in flags:
        ctx.fail(f"{with_n}, tracking is off after enable_prefix_broadcast (flags: {flags}).")
    if "bcast" not in flags:
        mode = next((m.upper() for m in ("optin", "optout") if m in flags), "default")
        ctx.fail(
            f"Tracking is on in {mode} mode (flags: {flags}), not BCAST: the server only "
            "reports keys this connection has read. Broadcasting reports every write under "
            "the prefixes: client_tracking_on(bcast=True, prefix=...)."
        )
    if not [prefix for prefix in prefixes if prefix]:  # BCAST alone reports one empty prefix
        ctx.fail(
            "BCAST is on without PREFIX: this connection is told about every write to every "
            f"key on the server. Pass prefix={list(asked)!r}."
        )
    if sorted(prefixes) != sorted(asked):
        ctx.fail(_prefixes_differ(with_n, list(asked), list(prefixes)))
    return flags


def _prefixes_differ(with_n, asked, prefixes):
    """Words for a server tracking ``prefixes`` where ``asked`` were given."""
    left_out = [prefix for prefix in asked if prefix not in prefixes]
    extra = [prefix for prefix in prefixes if prefix not in asked]
    said = f"{with_n} {asked}, the server tracks {prefixes}"
    if extra and any(char in prefix for prefix in extra for char in "*?["):
        return (
            f"{said}: a PREFIX is matched as plain text, not as a glob, so {extra[0]!r} only "
            "covers keys that really begin with those characters, '*' included. Register each "
            "prefix as given, without wildcards."
        )
    if extra and all(any(given.startswith(prefix) for given in asked) for prefix in extra):
        return (
            f"{said}: {extra} is shorter than what was asked, so this connection is told about "
            "writes to keys outside the prefixes it was given too. Register each prefix given, "
            "exactly (one PREFIX per prefix)."
        )
    if left_out:
        # "Not only the first" only when the first was registered.
        how = (
            " (one PREFIX per prefix), not only the first"
            if len(asked) > 1 and asked[0] in prefixes
            else ", exactly as given (one PREFIX per prefix)"
        )
        return (
            f"{said}: {left_out} {'is' if len(left_out) == 1 else 'are'} missing. Register "
            f"every prefix given{how}."
        )
    return f"{said}; expected exactly those."


@check(
    "prefix-broadcast",
    "enable_prefix_broadcast: BCAST for one, two and three prefixes; every write pushed",
    hint=3,
    lesson="Modes",
)
def prefix_broadcast(ctx: CheckContext) -> None:
    writer = ctx.another_client()
    for count in (1, 2, 3):
        asked = PREFIXES[:count]
        written = [f"{prefix}P1" for prefix in asked]
        own = f"{asked[-1]}own"
        ctx.use_keys(*written, own, OUTSIDE)
        client = valkey.Valkey(
            **ctx.connection_kwargs(),
            protocol=3,
            single_connection_client=True,
            decode_responses=True,
        )
        try:
            # Collect pushes from the start: a connection broadcasting every key (a wrong
            # answer) may be handed another client's invalidation before any reply.
            pushed = pushes.Invalidations(client)
            _enable(ctx, client, asked)
            flags = _judge_tracking_info(ctx, client, asked)
            writer.set(OUTSIDE, "not under any prefix")  # first: its push would come first
            for name in written:
                writer.set(name, "never read by the tracking connection")
            client.set(own, "written by the tracking connection itself")
            keys = pushed.after_round_trip([*written, own])
            not_told = [name for name in written if name not in keys]
            if not_told:
                ctx.fail(
                    f"With prefixes {list(asked)}, writes to {not_told} brought no "
                    f"invalidation push (got {keys})."
                )
            if OUTSIDE in keys:
                ctx.fail(f"A write to {OUTSIDE}, outside the prefixes, was pushed too.")
            if own not in keys:
                why = (
                    "tracking is on with NOLOOP, which hides the connection's own writes"
                    if "noloop" in flags
                    else "no push came"
                )
                ctx.fail(
                    f"This connection's own write to {own} was not reported: {why}. The "
                    "docstring asks for every write under the prefixes, its own included; a "
                    "local cache on this connection would keep the old value."
                )
        finally:
            client.close()

    # No prefixes: broadcasting must stay off (BCAST alone reports every key).
    client = valkey.Valkey(
        **ctx.connection_kwargs(), protocol=3, single_connection_client=True, decode_responses=True
    )
    try:
        client_id = client.client_id()
        # Refusing (any error) and doing nothing are both fine; broadcasting is not.
        with contextlib.suppress(Exception):
            ctx.implementation("enable_prefix_broadcast")(client, [])
        # Read from the checker's own connection (CLIENT LIST flag B: broadcast tracking):
        # with BCAST on, this one may be handed any other client's invalidation first.
        flags = next(
            (e.get("flags", "") for e in ctx.server.client_list() if int(e["id"]) == client_id),
            "",
        )
        if "B" in flags:
            ctx.fail(
                "enable_prefix_broadcast(client, []) turned on BCAST without a prefix: this "
                "connection is now told about every write to every key on the server. With no "
                "prefixes, turn nothing on (raise ValueError, say)."
            )
    finally:
        client.close()


@check(
    "dropped-connection",
    "A dropped connection reaches the caller of enable_prefix_broadcast; many prefixes work",
)
def dropped_connection(ctx: CheckContext) -> None:
    many = [f"workshop:tracking:many:{number}:" for number in range(1001)]
    client = ctx.another_client(protocol=3, single_connection_client=True)
    ctx.call("enable_prefix_broadcast", client, many)
    info = client.execute_command("CLIENT", "TRACKINGINFO")
    prefixes = info.get("prefixes", []) if isinstance(info, dict) else []
    ctx.require(
        len(prefixes) == len(many),
        f"enable_prefix_broadcast() with {len(many)} prefixes left the connection tracking "
        f"{len(prefixes)} of them: every prefix given must be tracked.",
    )
    faults.require_failure_reaches_caller(
        ctx,
        "enable_prefix_broadcast()",
        lambda client: ctx.implementation("enable_prefix_broadcast")(client, list(PREFIXES)),
        why="the caller believes tracking is on",
    )
