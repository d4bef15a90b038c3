"""Checks for step 07 (lazyfree). They change lazyfree settings and restore them afterwards.

The blocking-DEL baseline (what deleting the big key costs the main thread when nothing is
lazy) depends on the server and the machine, not on the learner's answer: it is measured once
per server run (``run_id``) and kept beside a DUMP of the big key (``stall_probe.ServerCache``),
so each further check RESTOREs one key instead of building two.
"""

from pathlib import Path

from valkey_workshop.checking import faults, inspect
from valkey_workshop.checking.api import CheckContext, TooManyRoundTrips, check
from valkey_workshop.pyfile import load_file_as_module

probe = load_file_as_module(Path(__file__).with_name("stall_probe.py"), "workshop_stall_probe")

KEY = "workshop:lazyfree:big"
COPY_KEY = "workshop:lazyfree:baseline"
OTHER_KEY = "workshop:lazyfree:other"
MISSING_KEY = "workshop:lazyfree:missing"
#: Hundreds of thousands of fields, as the exercise says: enough that a blocking DEL costs the
#: main thread tens of milliseconds (more on Redis 7.0), far above UNLINK's microseconds, while
#: the first check on a server, which builds the hash once, stays quick on a loaded machine.
FIELDS = 200_000
#: The PING probe's run-in before and after the deletion. The probe's numbers are reported,
#: not decisive (INFO commandstats and the lazyfree counters decide), so short windows do.
SETTLE_SECONDS = AFTER_SECONDS = 0.02


def _saved(ctx, names):
    return {name: ctx.server.config_get(name)[name] for name in names}


def _restore(ctx, saved):
    for name, value in saved.items():
        ctx.server.config_set(name, value)


def _key_count(ctx):
    """Keys in every database (a value moved elsewhere still counts)."""
    return sum(int(db["keys"]) for db in ctx.server.info("keyspace").values())


def _baseline(ctx, cache):
    """A blocking DEL of a FIELDS-field hash on this server: measured once per server run."""
    known = cache.load("baseline")
    if known:
        return known["server_seconds"], known["max_ping_seconds"]
    cache.big_hash(COPY_KEY)
    stall = probe.measure(
        ctx.url,
        lambda: ctx.server.delete(COPY_KEY),
        settle=SETTLE_SECONDS,
        after=AFTER_SECONDS,
    )
    # The DEL's own time only: on a server other checks share, their commands run meanwhile.
    del_seconds = stall.seconds_in({"DEL"}) or stall.server_seconds
    cache.store(
        "baseline",
        {"server_seconds": del_seconds, "max_ping_seconds": stall.max_ping_seconds},
    )
    return del_seconds, stall.max_ping_seconds


def _used(ctx, commands):
    return inspect.on_key(ctx.learner_calls(), KEY, commands)


@check(
    "delete-in-background",
    "delete_in_background removes a huge key at once, without stalling the server",
    hint=1,
    lesson="Commands",
)
def delete_in_background(ctx: CheckContext) -> None:
    ctx.use_keys(KEY, COPY_KEY, OTHER_KEY, MISSING_KEY)
    saved = _saved(ctx, probe.LAZYFREE_SETTINGS)
    try:
        # Like Redis before Valkey 8.0 (and any server whose configuration turns them off):
        # nothing is lazy unless the command itself asks for it.
        for name in probe.LAZYFREE_SETTINGS:
            ctx.server.config_set(name, "no")
        ctx.call("delete_in_background", ctx.client, MISSING_KEY)  # a missing key is no error
        cache = probe.ServerCache(ctx.server, FIELDS)
        base_server, base_ping = _baseline(ctx, cache)
        cache.big_hash(KEY)
        ctx.server.set(OTHER_KEY, "another application's data")
        measured = _delete_measured(ctx, base_server)
        mine, mine_seconds, handed_off, keys_before, keys_after = measured
        changed = {
            name: value
            for name, value in _saved(ctx, probe.LAZYFREE_SETTINGS).items()
            if value != "no"
        }
        if changed:
            ctx.fail(
                f"delete_in_background changed a server-wide setting ({', '.join(changed)} is "
                "now yes): that changes how every client's deletes behave, and it does nothing "
                "on a server where CONFIG is not allowed. UNLINK is lazy on its own."
            )
        if configured := _config_sets(ctx):
            ctx.fail(
                f"delete_in_background sent CONFIG SET ({', '.join(configured)}), even if it put "
                "the setting back: meanwhile every client's deletes change behaviour, another "
                "client's CONFIG SET in between is overwritten, and a server that does not allow "
                "CONFIG refuses it. UNLINK is lazy on its own, with no setting."
            )
        _judge_removed(ctx, keys_before, keys_after)
        numbers = (
            f"a {FIELDS:,}-field hash: the server's main thread spent "
            f"{mine_seconds * 1000:.2f} ms on your deletion and a concurrent PING waited "
            f"up to {mine.max_ping_seconds * 1000:.1f} ms; a blocking DEL of the same key: "
            f"{base_server * 1000:.1f} ms and {base_ping * 1000:.1f} ms"
        )
        # Two facts from the server itself: the value went to the background thread
        # (lazyfree_pending_objects + lazyfreed_objects grew), and the main thread spent
        # little time on the deletion (INFO commandstats). The PING probe is reported; on a
        # small machine the background free also slows PINGs a little, so it does not decide.
        busy = handed_off and _looks_busy(ctx, mine_seconds, base_server, 0)
        if not handed_off or busy:
            if _used(ctx, {"DEL"}):
                why = (
                    "DEL frees the whole value before it answers (lazyfree-lazy-user-del is no "
                    "here, as on servers before Valkey 8.0), and nobody else is served "
                    "meanwhile. UNLINK frees it in the background on every server."
                )
            elif _used(ctx, {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"}):
                why = (
                    "an expiry frees the value as lazyfree-lazy-expire says (no here, as on "
                    "servers before Valkey 8.0), so the main thread freed it while others "
                    "waited. UNLINK frees it in the background on every server."
                )
            elif not handed_off:
                why = (
                    "the main thread freed the value itself (INFO memory counted nothing handed "
                    "to the background thread) while other clients waited."
                )
            else:
                why = "the server was busy freeing the value while other clients waited."
            ctx.fail(f"Deleting {numbers}: {why}")
        _other_kinds_go_to_the_background(ctx)
        ctx.note(f"Deleting {numbers}.")
    finally:
        _restore(ctx, saved)


#: Values of other types big enough that UNLINK hands them to the background thread (its
#: threshold counts a list's nodes, of about 8 kB each, and a set's or sorted set's members):
#: checked on Valkey 9.1 and Redis 7.0, where a 2,000-element list is still freed at once.
OTHER_KINDS = (("list", 20_000), ("set", 5_000), ("zset", 5_000))


def _build(ctx, name, kind, count):
    element = "x" * 100
    pipe = ctx.server.pipeline(transaction=False)
    for start in range(0, count, 1000):
        chunk = range(start, min(count, start + 1000))
        if kind == "list":
            pipe.rpush(name, *[f"{element}{i}" for i in chunk])
        elif kind == "set":
            pipe.sadd(name, *[f"m{i}" for i in chunk])
        else:
            pipe.zadd(name, {f"m{i}": i for i in chunk})
    pipe.execute()


def _other_kinds_go_to_the_background(ctx):
    """The big key above is a hash; a deletion that picks its command by the key's type
    (UNLINK for hashes only, say) must fail too. These values are small enough to build in
    milliseconds and big enough that only a lazy deletion hands them to the background."""
    for kind, count in OTHER_KINDS:
        name = f"{KEY}:{kind}"
        ctx.use_keys(name)
        _build(ctx, name, kind, count)
        before = _lazy_handoffs(ctx)
        _delete_within_limit(ctx, name)
        if ctx.server.exists(name):
            ctx.fail(f"After delete_in_background({name!r}) (a {kind}) the key still exists.")
        if _lazy_handoffs(ctx) == before:
            ctx.fail(
                f"delete_in_background({name!r}), a {kind} of {count:,} elements, was freed by "
                "the main thread while other clients waited (nothing was handed to the "
                "background thread): UNLINK frees any big value in the background, whatever "
                "its type."
            )


def _config_sets(ctx):
    """The parameters the learner's code set with CONFIG SET in this check, in order."""
    names = []
    for _name, args, _call in inspect.commands(ctx.learner_calls()):
        # valkey-py sends "CONFIG SET" as one argument; raw execute_command as two.
        words = [*str(args[0]).upper().split(), *(str(arg) for arg in args[1:])]
        if words[:2] == ["CONFIG", "SET"]:
            names += [name for name in words[2::2] if name not in names]
    return names


def _judge_removed(ctx, keys_before, keys_after):
    """Only KEY is gone, and gone for good (not expiring, renamed or moved)."""
    if not ctx.server.exists(OTHER_KEY):
        ctx.fail(
            f"After delete_in_background({KEY!r}) another key ({OTHER_KEY}) is gone too: "
            "FLUSHDB/FLUSHALL remove every key of the database. Remove only the one key."
        )
    if ctx.server.exists(KEY):
        ctx.fail(
            f"After delete_in_background the key {KEY} still exists: remove it before "
            "returning (an EXPIRE in the future, or a pipeline never executed, leaves it)."
        )
    expiry = _used(ctx, inspect.EXPIRY_COMMANDS)
    pending = _expiry_instead_of_removal(ctx)
    if pending or (keys_after != keys_before - 1 and expiry):
        command = pending or expiry[0]
        unit = "ms" if command.name.startswith("P") else "s"
        asked = f" (a time to live of {command.args[2]} {unit})" if pending else ""
        ctx.fail(
            f"delete_in_background gave {KEY} an expiry ({command.name}) instead of "
            f"removing it{asked}: it stays in the keyspace until the server gets to its expiry, "
            "and then it is freed as lazyfree-lazy-expire says (no here, as on servers "
            "before Valkey 8.0), in the main thread. UNLINK removes it at once and frees it "
            "in the background."
        )
    if keys_after != keys_before - 1:
        ctx.fail(
            f"{KEY} is gone, but the number of keys did not drop: the value lives on under "
            "another name or in another database (RENAME/MOVE), and its memory is never "
            "freed. Remove it with UNLINK."
        )


#: Commands that remove a key there and then (the rest of the check judges how).
_REMOVALS = frozenset({"DEL", "UNLINK", "GETDEL"})


def _expiry_instead_of_removal(ctx):
    """The EXPIRE or PEXPIRE with a time to live above zero that the learner's code gave KEY,
    when none of its commands removed KEY: the key waits for its expiry, however short.

    Judged by what the code sent, not by the keyspace: a 1 ms expiry is often gone by the time
    the keys are counted (the server's expiry cycle got to it on a loaded machine), and the
    fault is the same. An expiry at a timestamp (EXPIREAT, PEXPIREAT) is judged by the key
    count in ``_judge_removed`` alone, since a timestamp in the past removes the key at once."""
    if _used(ctx, _REMOVALS):
        return None
    for command in _used(ctx, {"EXPIRE", "PEXPIRE"}):
        try:
            time_to_live = int(str(command.args[2]))
        except (IndexError, ValueError):
            continue
        if time_to_live > 0:
            return command
    return None


def _lazy_handoffs(ctx):
    return probe.lazy_handoffs(ctx.server)


def _delete_measured(ctx, base_seconds, attempts=3):
    """Run the learner's deletion of a fresh KEY under the PING probe.

    Returns the measurement, whether the background thread freed the value, and the number
    of keys (all databases) before and after. A deletion
    that was handed off but still looked busy is measured once more: a one-off pause of the
    main thread (the allocator returning memory, a busy machine) is not the learner's doing,
    while a blocking answer is slow every time. (The retries once ran only where the
    baseline is kept in a file, the embedded server: on Docker and --url servers a correct
    UNLINK preempted once under load failed.)
    """
    for attempt in range(attempts):
        if attempt:
            probe.ServerCache(ctx.server, FIELDS).big_hash(KEY)
        lazy_before = _lazy_handoffs(ctx)
        keys_before = _key_count(ctx)
        calls_before = len(ctx.learner_calls())
        stall = probe.measure(
            ctx.url,
            lambda: _delete_within_limit(ctx, KEY),
            settle=SETTLE_SECONDS,
            after=AFTER_SECONDS,
        )
        keys_after = _key_count(ctx)
        handed_off = _lazy_handoffs(ctx) > lazy_before
        seconds = _learner_seconds(ctx, stall, calls_before)
        result = stall, seconds, handed_off, keys_before, keys_after
        if not handed_off or ctx.server.exists(KEY):
            return result
        if not _looks_busy(ctx, seconds, base_seconds, calls_before):
            return result
    return result


#: Commands on the big key that cost the main thread nothing however big the value is: an
#: UNLINK only unlinks it (the background thread frees it), the others read its header.
_CHEAP_ON_KEY = frozenset({"UNLINK", "EXISTS", "TYPE", "TTL", "PTTL", "OBJECT", "EXPIRETIME"})


def _looks_busy(ctx, seconds, base_seconds, calls_before):
    """Whether a deletion that went to the background still kept the main thread busy.

    A deletion that sent only cheap commands on KEY (UNLINK, EXISTS, ...) cannot have: the
    INFO commandstats time of an UNLINK is wall-clock, and on a loaded machine a preempted
    server thread once made a correct UNLINK read 7.2 ms against a 20 ms DEL. Only code that
    did more on the key (read it all first, delete part of it) is judged by the time."""
    calls = ctx.learner_calls()[calls_before:]
    on_key = [
        name
        for name, args, _call in inspect.commands(calls)
        if KEY in [str(arg) for arg in args[1:]]
    ]
    if on_key and all(name.split()[0] in _CHEAP_ON_KEY for name in on_key):
        return False
    return seconds >= base_seconds * 0.25


#: Commands one deletion may send before it is stopped (UNLINK is one; a few looks first
#: are fine).
DELETE_TRIPS_LIMIT = 8


#: Commands that answer with a whole value: asked of the key to delete, the reply alone is
#: the stall (every field of a 200,000-field hash, built by the main thread and parsed here).
#: ZRANGE and LRANGE only as 0 -1 (a range of 1000 is one piece of a chunked deletion).
WHOLE_VALUE_READS = frozenset({"HKEYS", "HVALS", "HGETALL", "SMEMBERS", "DUMP"})
WHOLE_WHEN_ZERO_TO_END = frozenset({"ZRANGE", "LRANGE"})


def _reads_whole_value(args, name):
    """The command's name when it asks for the whole value of `name`, else None."""
    words = [arg.decode() if isinstance(arg, bytes) else str(arg) for arg in args]
    command = words[0].upper().split(" ", 1)[0]
    if len(words) < 2 or words[1] != name:
        return None
    if command in WHOLE_VALUE_READS:
        return command
    if command in WHOLE_WHEN_ZERO_TO_END and words[2:4] == ["0", "-1"]:
        return f"{command} 0 -1"
    return None


class ReadsWholeValue(BaseException):
    """Stops a deletion that asked for the whole value first (a BaseException, so `except
    Exception` in the learner's code does not hide it), before the command is sent."""


def _delete_within_limit(ctx, name):
    """The learner's delete_in_background(name), stopped with a failure once it has sent more
    than DELETE_TRIPS_LIMIT commands (deleting piece by piece, HSCAN and HDEL say, of hundreds
    of thousands of fields would otherwise run into the step's time limit), or before it asks
    for the whole value (HKEYS, SMEMBERS, ...), whose one reply is already the stall."""
    since = len(ctx.learner_calls())
    client = ctx.client
    send = client.execute_command
    hooked_before = "execute_command" in vars(client)  # another check's hook: put it back

    def refusing_whole_reads(*args, **options):
        if command := _reads_whole_value(args, name):
            raise ReadsWholeValue(command)
        return send(*args, **options)

    client.execute_command = refusing_whole_reads
    try:
        with ctx.round_trips_at_most(DELETE_TRIPS_LIMIT):
            ctx.call("delete_in_background", ctx.client, name)
    except ReadsWholeValue as read:
        ctx.fail(
            f"delete_in_background({name!r}) asked for the whole value first ({read} "
            f"{name}), and the check stopped it there: that one reply holds every element, "
            "which the server's main thread builds while nobody else is served and the client "
            "then reads, before anything is deleted. UNLINK removes the key in one command and "
            "frees the value in the background."
        )
    except TooManyRoundTrips:
        calls = ctx.learner_calls()[since:]
        sent = sorted({command for command, _args, _call in inspect.commands(calls)})
        ctx.fail(
            f"delete_in_background({name!r}) sent more than {DELETE_TRIPS_LIMIT} commands "
            f"({', '.join(sent)}) before the check stopped it: deleting a big value piece by "
            "piece keeps the server busy as long as all the pieces take, and the key is half "
            "there meanwhile. UNLINK removes it in one command and frees it in the background."
        )
    finally:
        if hooked_before:
            client.execute_command = send
        else:
            del client.execute_command  # the class's own again


def _learner_seconds(ctx, stall, calls_before):
    """Main-thread seconds in the commands the learner's code sent during the measurement.

    INFO commandstats counts every client's commands, and in `verify` other steps' checks
    share the server: the sum of everything that ran meanwhile once judged a correct UNLINK as
    stalling (7.8 ms against a 14 ms DEL, under load). A script or transaction counts whole
    (EVAL's or EXEC's time includes what it ran). Code that sent nothing through the client
    it was given (a client of its own) is measured by everything the server did.
    """
    names = {name for name, _args, _call in inspect.commands(ctx.learner_calls()[calls_before:])}
    return stall.seconds_in(names) if names else stall.server_seconds


# (what the check sets before calling enable_lazy_freeing, how the message names that state)
START_STATES = (
    ({name: "no" for name in probe.LAZYFREE_SETTINGS}, "all five were off"),
    (
        {
            **{name: "no" for name in probe.LAZYFREE_SETTINGS},
            "lazyfree-lazy-user-del": "yes",
        },
        "only lazyfree-lazy-user-del was on",
    ),
)


@check(
    "enable-lazy-freeing",
    "enable_lazy_freeing turns on all five lazyfree settings, whichever were on before",
    hint=3,
    lesson="The settings, read from this server now",
)
def enable_lazy_freeing(ctx: CheckContext) -> None:
    saved = _saved(ctx, probe.LAZYFREE_SETTINGS)
    try:
        for state, described in START_STATES:
            for name, value in state.items():
                ctx.server.config_set(name, value)
            ctx.call("enable_lazy_freeing", ctx.client)
            now = _saved(ctx, probe.LAZYFREE_SETTINGS)
            still_off = [name for name, value in now.items() if value != "yes"]
            if still_off:
                ctx.fail(
                    f"Still off after enable_lazy_freeing (when {described}): "
                    f"{', '.join(still_off)}. Each of the five covers a different moment "
                    "(evictions, expiries, server-side deletes, DEL, flushes), and one being on "
                    "says nothing about the others."
                )
        ctx.note(f"Before the check turned them off, this server had: {saved}.")
    finally:
        _restore(ctx, saved)


UNICODE_KEY = "workshop:lazyfree:ключ é 🙂"


@check(
    "dropped-connection",
    "A dropped connection reaches the caller; a key beyond ASCII is deleted like any other",
)
def dropped_connection(ctx: CheckContext) -> None:
    ctx.use_keys(UNICODE_KEY)
    ctx.server.set(UNICODE_KEY, "x")
    ctx.call("delete_in_background", ctx.client, UNICODE_KEY)
    ctx.require(
        not ctx.server.exists(UNICODE_KEY),
        f"delete_in_background({UNICODE_KEY!r}) left the key in place: every key works alike.",
    )

    def deletes(client):
        ctx.server.set(UNICODE_KEY, "x")
        return ctx.implementation("delete_in_background")(client, UNICODE_KEY)

    faults.require_failure_reaches_caller(
        ctx, "delete_in_background()", deletes, why="the caller believes the key is gone"
    )
    saved = _saved(ctx, probe.LAZYFREE_SETTINGS)
    try:
        faults.require_failure_reaches_caller(
            ctx,
            "enable_lazy_freeing()",
            ctx.implementation("enable_lazy_freeing"),
            why="the caller believes lazy freeing is on",
        )
    finally:
        _restore(ctx, saved)
