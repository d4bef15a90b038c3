"""Checks for step 04 (eviction). They change the server's eviction settings and put them back
afterwards, so steps run in any order on one server."""

from pathlib import Path

from valkey_workshop.checking import faults, inspect
from valkey_workshop.checking.api import CheckContext, check
from valkey_workshop.pyfile import load_file_as_module

lru = load_file_as_module(Path(__file__).with_name("lru_experiment.py"), "workshop_lru_experiment")

PREFIX = "workshop:evict:"
POLICIES = {
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
}


def _settings(ctx):
    return ctx.server.config_get("maxmemory*")


def _configured(ctx, limit, samples):
    """Call the learner's function, then read back what the server now says."""
    ctx.call("configure_lru_cache", ctx.client, limit, samples)
    settings = _settings(ctx)
    if int(settings["maxmemory"]) == 0:
        ctx.fail(
            f"configure_lru_cache(client, {limit}, ...) left maxmemory at 0 (no limit): the "
            "server never fills up, so no policy ever acts. Set maxmemory to maxmemory_bytes."
        )
    if int(settings["maxmemory"]) != limit:
        ctx.fail(
            f"configure_lru_cache(client, {limit}, ...) left maxmemory at {settings['maxmemory']} "
            f"bytes; expected {limit}. maxmemory_bytes is already in bytes: pass it on as it is."
        )
    policy = settings["maxmemory-policy"]
    if policy == "noeviction":
        ctx.fail(
            "maxmemory-policy is still noeviction: once the limit is reached every write fails "
            "with OOM instead of evicting. Set it to allkeys-lru."
        )
    if policy.startswith("volatile-"):
        ctx.fail(
            f"maxmemory-policy is {policy}: volatile-* policies evict only keys that carry a TTL. "
            "In a cache where keys have no TTL nothing can be evicted, and writes fail with OOM "
            "as under noeviction. An LRU cache over all keys is allkeys-lru."
        )
    if policy != "allkeys-lru":
        ctx.fail(
            f"maxmemory-policy is {policy}; an LRU cache evicts the least recently used of all "
            "keys: allkeys-lru."
        )
    return settings


@check(
    "configure-lru-cache",
    "configure_lru_cache makes an LRU cache that evicts instead of failing",
    hint=1,
    lesson="The eight policies",
)
def configure_lru_cache(ctx: CheckContext) -> None:
    saved = lru.snapshot(ctx.server)
    try:
        # The server guard has already refused a server holding others' data (changes_server).
        result = lru.run(ctx.server, PREFIX, lambda limit: _configured(ctx, limit, 5))
        if int(_settings(ctx)["maxmemory-samples"]) != 5:
            ctx.fail("maxmemory-samples is not the 5 the check asked for.")
        if result.oom_errors:
            ctx.fail(
                f"{result.oom_errors} writes past the limit failed ({result.first_error}); an "
                "LRU cache should evict old keys instead."
            )
        if result.evicted == 0 and (data := _data_commands(ctx.learner_calls())):
            ctx.fail(
                f"configure_lru_cache sent {', '.join(data)}: configuring the cache is three "
                "CONFIG SETs; it must not change the data the cache holds (here the keys it "
                "removed left nothing to evict)."
            )
        if result.evicted == 0:
            ctx.fail("Writing well past maxmemory evicted nothing (evicted_keys did not grow).")
        hot, cold = result.rate(result.hot), result.rate(result.cold)
        if hot < cold + 0.15:
            ctx.fail(
                f"Recently read keys did not survive better than never-read ones ({hot:.0%} "
                f"against {cold:.0%}): the server is not evicting by recent use."
            )
    finally:
        lru.restore(ctx.server, saved)
        lru.delete_prefix(ctx.server, PREFIX)


#: How long the check's write pause may last, in milliseconds: the server lifts it by itself
#: after this even if the check's process died (CLIENT PAUSE's own timeout).
PAUSE_MS = 3000


#: Commands that neither read nor change data (a transaction around CONFIG SETs is fine).
_NOT_DATA = frozenset(
    {"CONFIG", "INFO", "PING", "CLIENT", "HELLO", "SELECT", "COMMAND", "MULTI", "EXEC", "DISCARD"}
)


def _data_commands(calls):
    """The commands other than settings and server information that learner code sent
    (FLUSHALL, a DEL, ...), each name once, in order."""
    names = []
    for name, _args, _call in inspect.commands(calls):
        word = name.split()[0]
        if word not in _NOT_DATA and name not in names:
            names.append(name)
    return names


def _limits(ctx):
    """Memory limits of every magnitude: below the server's own footprint (hundreds of kB),
    around 1 MB, a few MB, hundreds of MB, many GB, and round numbers a threshold may sit on."""
    return [
        ctx.random.randint(100_000, 999_999),
        1_000_000,
        2**20,
        ctx.random.randint(1_000_001, 20_000_000),
        ctx.random.randint(10**8, 10**9),
        ctx.random.randint(2**32, 64 * 2**30),
    ]


@check(
    "any-memory-limit",
    "configure_lru_cache sets maxmemory to exactly maxmemory_bytes, small or large, and "
    "allkeys-lru whatever policy was set before",
    hint=1,
    lesson="The eight policies",
)
def any_memory_limit(ctx: CheckContext) -> None:
    """The other checks pass limits a little above what the server holds (over 1 MB) to a
    server at noeviction; an answer that skips, clamps or rounds some limits, or that sets
    the policy only when it was noeviction, passed them. Here each generated limit must reach
    the server as it is, from a generated earlier policy.

    A limit below what the server already holds would evict every key at the next command
    (the learner's own CONFIG SETs included). A write pause (CLIENT PAUSE WRITE) also pauses
    eviction, and CONFIG SET and CONFIG GET still run under it: the check reads the settings,
    puts the old ones back, and only then lifts the pause, so nothing is ever evicted.
    """
    saved = lru.snapshot(ctx.server)
    earlier = sorted(POLICIES - {"allkeys-lru"})

    def trial(case):
        limit, before = case
        mark = ctx.client.call_log.mark()
        ctx.server.execute_command("CLIENT", "PAUSE", PAUSE_MS, "WRITE")
        try:
            ctx.server.config_set("maxmemory-policy", before)
            ctx.call("configure_lru_cache", ctx.client, limit, 5)
            now = _settings(ctx)
        finally:
            lru.restore(ctx.server, saved)
            ctx.server.execute_command("CLIENT", "UNPAUSE")
        call = f"configure_lru_cache(client, {limit:,})"
        if data := _data_commands(ctx.client.call_log.records(mark)):
            # A write waited for the pause to end: say what it was, once, not after each case.
            return (
                f"{call} sent {', '.join(data)}: configuring the cache is three CONFIG SETs; it "
                "must not read or change the data the cache holds."
            )
        if int(now["maxmemory"]) != limit:
            left = "0 (no limit)" if now["maxmemory"] == "0" else f"{int(now['maxmemory']):,} bytes"
            return (
                f"{call} left maxmemory at {left}; expected {limit:,}. maxmemory_bytes is the "
                "limit in bytes, whatever its size: pass it on as it is, without a minimum, a "
                "maximum or rounding."
            )
        if now["maxmemory-policy"] != "allkeys-lru":
            return (
                f"{call} on a server whose policy was {before} left maxmemory-policy at "
                f"{now['maxmemory-policy']}: set allkeys-lru whatever was set before (another "
                "application, or an earlier step, may have chosen any policy)."
            )
        return None

    cases = [(limit, ctx.random.choice(earlier)) for limit in _limits(ctx)]
    try:
        ctx.search(cases, trial)
    finally:
        lru.restore(ctx.server, saved)


@check(
    "samples-argument",
    "configure_lru_cache uses its samples argument",
    hint=1,
    lesson="Approximated LRU and LFU",
)
def samples_argument(ctx: CheckContext) -> None:
    saved = lru.snapshot(ctx.server)
    try:
        limit = int(ctx.server.info("memory")["used_memory"]) + 64 * 1024 * 1024
        # Only the samples are judged here: a wrong policy is configure-lru-cache's finding.
        ctx.call("configure_lru_cache", ctx.client, limit, 9)
        settings = _settings(ctx)
        if settings["maxmemory-samples"] != "9":
            ctx.fail(
                f"configure_lru_cache(client, ..., samples=9) left maxmemory-samples at "
                f"{settings['maxmemory-samples']}: use the samples argument."
            )
        # Every value the server takes (1 to 64), not only the few above: a clamp or an
        # off-by-one at some bound passed those.
        for samples in (1, ctx.random.randint(2, 8), ctx.random.randint(10, 63), 64):
            ctx.call("configure_lru_cache", ctx.client, limit, samples)
            now = _settings(ctx)["maxmemory-samples"]
            if now != str(samples):
                ctx.fail(
                    f"configure_lru_cache(client, ..., samples={samples}) left "
                    f"maxmemory-samples at {now}: pass the samples argument on as it is (the "
                    "server takes 1 to 64). "
                    f"{ctx.replay_note()}"
                )
        # Called without samples, the signature's default (5) applies, as the starter says.
        ctx.call("configure_lru_cache", ctx.client, limit)
        default = _settings(ctx)["maxmemory-samples"]
        if default != "5":
            ctx.fail(
                f"configure_lru_cache(client, {limit}) without samples left maxmemory-samples "
                f"at {default}; the default is samples=5, as in the starter's signature."
            )
    finally:
        lru.restore(ctx.server, saved)


# (constant, accepted values, what the situation needs)
SITUATIONS = (
    ("POLICY_CACHE_ONLY", {"allkeys-lru"}, "every key is cache data: the least recently used goes"),
    (
        "POLICY_MIXED_DATA",
        # Any volatile-* policy keeps keys without a TTL out of reach: that is the whole
        # requirement. The lesson says why volatile-lru is the usual one.
        {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"},
        "keys without a TTL must never be evicted",
    ),
    (
        "POLICY_HOT_KEYS",
        {"allkeys-lfu"},
        "keep the keys read often in the last minutes; a key read once goes first, even if it "
        "was read just now",
    ),
    ("POLICY_SHORTEST_TTL", {"volatile-ttl"}, "evict the keys closest to expiring first"),
)


def _why_not(name, value):
    if name == "POLICY_MIXED_DATA" and value.startswith("allkeys-"):
        return (
            f"{value} may evict data that must stay: with mixed data only keys with a TTL (the "
            "cache keys) may go, so use a volatile-* policy."
        )
    if name == "POLICY_HOT_KEYS" and value.endswith("-lru"):
        return (
            f"{value} keeps whichever key was read last: a key read once just now outranks one "
            "read a hundred times in the last minute whose latest read came a few seconds "
            "earlier. Ranking by how often keys were read lately is frequency: LFU."
        )
    if value == "noeviction":
        return "noeviction never evicts: a full cache refuses writes."
    if value.endswith("-random"):
        return f"{value} ignores how keys are used."
    if value.startswith("volatile-") and name in ("POLICY_CACHE_ONLY", "POLICY_HOT_KEYS"):
        return f"{value} only considers keys with a TTL; here any key may go (allkeys-*)."
    return None


@check(
    "policy-choices",
    "A fitting eviction policy for each situation",
    hint=2,
    lesson="The eight policies",
)
def policy_choices(ctx: CheckContext) -> None:
    # Every misfit is named at once: fixing one and running the check again to meet the next
    # is a slow way to learn that three were swapped.
    problems = []
    for name, accepted, need in SITUATIONS:
        value = ctx.setting(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name} is empty: name the policy for '{need}'.")
            continue
        value = value.strip().lower()
        if value not in POLICIES:
            problems.append(
                f"{name} = {value!r} is not a Valkey policy; the eight are: "
                f"{', '.join(sorted(POLICIES))}."
            )
        elif value not in accepted:
            reason = _why_not(name, value) or f"{value} does not fit: {need}."
            problems.append(f"{name} = {value!r}: {reason}")
    if len(problems) > 1:
        ctx.fail(
            f"{len(problems)} of the {len(SITUATIONS)} choices do not fit. " + " ".join(problems)
        )
    if problems:
        ctx.fail(problems[0])


@check("dropped-connection", "A dropped connection reaches the caller of configure_lru_cache")
def dropped_connection(ctx: CheckContext) -> None:
    saved = lru.snapshot(ctx.server)
    try:
        limit = int(ctx.server.info("memory")["used_memory"]) + 64 * 1024 * 1024
        wanted = {"maxmemory": str(limit), "maxmemory-samples": "7"}

        def configure(client):
            lru.restore(ctx.server, saved)
            return ctx.implementation("configure_lru_cache")(client, limit, 7)

        def configured():
            now = _settings(ctx)
            return {**now, **wanted, "maxmemory-policy": "allkeys-lru"} == now

        faults.require_failure_reaches_caller(
            ctx,
            f"configure_lru_cache(client, {limit}, 7)",
            configure,
            why="the caller believes the server is an LRU cache now",
            done=configured,
        )
    finally:
        lru.restore(ctx.server, saved)
