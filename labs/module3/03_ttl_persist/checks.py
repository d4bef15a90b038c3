"""Checks for step 03 (ttl-persist).

One check per clause of the starter's docstrings: each function is tried on a key with a TTL,
a key without one and a missing key, and TTLs are both raised and lowered. What the learner's
code sent is read from the timed client, so an option that skips keys (NX, XX, GT, LT), a
read-then-write in place of an atomic option, or a valkey-py spelling slip is named as such.
"""

from valkey_workshop.checking import advice, faults, inspect
from valkey_workshop.checking.api import CheckContext, CheckFailed, check

KEY = "workshop:ttl:check"
#: Commands that read a key's remaining time.
TTL_READS = {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}
#: Commands that write a key's value.
VALUE_WRITES = {"SET", "SETEX", "PSETEX", "GETSET", "SETRANGE", "APPEND", "MSET"}
#: What each EXPIRE option does, for a message naming the one the learner used.
EXPIRE_OPTIONS = {
    "NX": "NX sets a TTL only on a key that has none",
    "XX": "XX sets a TTL only on a key that already has one",
    "GT": "GT only raises a TTL (and a key without a TTL counts as infinite, so it never gets one)",
    "LT": "LT only lowers a TTL",
}


def _sent(ctx: CheckContext, mark: int, names: set[str]) -> list[inspect.KeyCommand]:
    return inspect.on_key(ctx.client.call_log.records(mark), KEY, names)


def _options(commands: list[inspect.KeyCommand]) -> set[str]:
    return {str(arg).upper() for command in commands for arg in command.args[2:]}


def _spelled(command: inspect.KeyCommand) -> str:
    """``SET ... PX``: the command and the expiry option it used."""
    options = sorted(_options([command]) & {"EX", "PX", "EXAT", "PXAT"})
    return " ".join([command.name, *(f"... {option}" for option in options)])


def _is_true(result: object) -> bool:
    return result is True or (type(result) is int and result == 1)


def _is_false(result: object) -> bool:
    return result is False or (type(result) is int and result == 0)


def _expire_option_note(ctx: CheckContext, mark: int) -> str:
    used = _options(_sent(ctx, mark, inspect.EXPIRY_COMMANDS)) & set(EXPIRE_OPTIONS)
    return "".join(f" {EXPIRE_OPTIONS[option]}." for option in sorted(used))


def _rewrote_value(ctx: CheckContext, mark: int, function: str) -> None:
    writes = _sent(ctx, mark, VALUE_WRITES)
    if writes:
        ctx.fail(
            f"{function} wrote the value again ({writes[0].name}) to change the TTL. A write by "
            "another client between your read and your write is lost; EXPIRE and PERSIST change "
            "only the TTL, atomically."
        )


# -- cache_with_ttl ----------------------------------------------------------------------


def _cache_with_ttl(ctx: CheckContext, value: str, seconds: int) -> None:
    """cache_with_ttl(KEY, value, seconds): the value stored, with about `seconds` of TTL."""
    mark = ctx.client.call_log.mark()
    advice.call(ctx, "cache_with_ttl", ctx.client, KEY, value, seconds)
    stored, pttl = ctx.server.get(KEY), ctx.server.pttl(KEY)
    millis = _options(_sent(ctx, mark, {"SET"})) & {"PX", "PXAT"} or _sent(
        ctx, mark, {"PSETEX", "PEXPIRE", "PEXPIREAT"}
    )
    if millis and -1 != pttl < (seconds - 10) * 1000:
        left = "it has expired already" if pttl == -2 else f"it has a TTL of {pttl} ms"
        ctx.fail(
            f"After cache_with_ttl(..., {seconds}) {left}, not {seconds} s: px= (PSETEX, "
            "PEXPIRE) counts milliseconds. Use ex=seconds, or multiply by 1000."
        )
    if stored is None:
        ctx.fail(
            f"After cache_with_ttl(client, {KEY!r}, {value!r}, {seconds}) the key does not exist."
        )
    ctx.require(stored == value, f"cache_with_ttl stored {stored!r}; expected {value!r}.")
    ttl = ctx.server.ttl(KEY)
    if ttl == -1:
        ctx.fail(
            f"{KEY} has no TTL (TTL answers -1): it will never expire. Set the value and the "
            "TTL in one command: set(key, value, ex=seconds)."
        )
    window = inspect.ttl_window(ctx.client.call_log.records(mark), KEY)
    if window:
        ctx.fail(window)
    ctx.require(
        seconds - 10 <= ttl <= seconds,
        f"After cache_with_ttl(..., {seconds}) {KEY} has a TTL of {ttl} s; expected about "
        f"{seconds} s.",
    )


@check(
    "cache-with-ttl",
    "cache_with_ttl stores the value with its TTL, atomically",
    hint=1,
    lesson="Atomic: one command, not two",
)
def cache_with_ttl(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    _cache_with_ttl(ctx, "hello", 120)


@check(
    "cache-with-ttl-replaces",
    "cache_with_ttl replaces the value and TTL a key already had",
    hint=1,
    lesson="Atomic: one command, not two",
)
def cache_with_ttl_replaces(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    for before, what in (({}, "no TTL"), ({"ex": 1000}, "a TTL of 1000 s")):
        ctx.server.set(KEY, "old", **before)
        mark = ctx.client.call_log.mark()
        try:
            _cache_with_ttl(ctx, "new", 60)
        except CheckFailed as failure:
            note = ""
            if "NX" in _options(_sent(ctx, mark, {"SET"})):
                note = " nx=True writes only a key that does not exist yet."
            said = str(failure)
            if said.startswith("After "):  # it continues the sentence
                said = "a" + said[1:]
            ctx.fail(f"On a key that already held 'old' with {what}: {said}{note}")


# -- extend_ttl --------------------------------------------------------------------------


def _extend(ctx: CheckContext, before: dict[str, int], what: str) -> None:
    """extend_ttl(KEY, 300) on a key holding 'v' with ``before``'s TTL: True, TTL ~300."""
    ctx.use_keys(KEY)
    ctx.server.set(KEY, "v", **before)
    mark = ctx.client.call_log.mark()
    result = advice.call(ctx, "extend_ttl", ctx.client, KEY, 300)
    ttl, pttl = ctx.server.ttl(KEY), ctx.server.pttl(KEY)
    millis = _sent(ctx, mark, {"PEXPIRE", "PEXPIREAT", "PSETEX"}) or _options(
        _sent(ctx, mark, {"SET"})
    ) & {"PX", "PXAT"}
    if millis and -1 != pttl < 290_000:
        left = "it has expired already" if pttl == -2 else f"it has a TTL of {pttl} ms"
        name = millis[0].name if isinstance(millis, list) else "SET PX"
        ctx.fail(
            f"After extend_ttl(client, key, 300) on a key with {what}, {left}, not 300 s: "
            f"{name} counts milliseconds, so 300 is 0.3 s. Use EXPIRE key seconds "
            "(client.expire), or multiply by 1000."
        )
    if ttl == -2:
        ctx.fail(f"extend_ttl deleted a key with {what}; it should only set its TTL.")
    if "ex" in before and _is_true(result) and abs(ttl - (before["ex"] + 300)) <= 2:
        ctx.fail(
            f"extend_ttl(client, key, 300) on a key with {what} left a TTL of {ttl} s: it added "
            "300 s to the time left instead of setting the TTL to 300 s, so a key read often "
            "would be kept for ever longer. EXPIRE key 300 sets it to 300 s from any TTL."
        )
    if not (_is_true(result) and 290 <= ttl <= 300):
        note = _expire_option_note(ctx, mark)
        ctx.fail(
            f"extend_ttl(client, key, 300) on an existing key with {what} returned {result!r} "
            f"and left a TTL of {ttl}; expected True and a TTL of about 300 s.{note}"
            + ("" if note else " EXPIRE key 300 sets it from any TTL, or none.")
        )
    ctx.require(
        ctx.server.get(KEY) == "v",
        f"extend_ttl changed the value to {ctx.server.get(KEY)!r}; only the TTL should change.",
    )
    _rewrote_value(ctx, mark, "extend_ttl")


@check(
    "extend-ttl",
    "extend_ttl raises a short TTL and returns True",
    hint=2,
    lesson="Setting a TTL",
)
def extend_ttl(ctx: CheckContext) -> None:
    _extend(ctx, {"ex": 5}, "a TTL of 5 s")


@check(
    "extend-ttl-lowers",
    "extend_ttl lowers a long TTL too",
    hint=2,
    lesson="EXPIRE's options",
)
def extend_ttl_lowers(ctx: CheckContext) -> None:
    _extend(ctx, {"ex": 1000}, "a TTL of 1000 s")


@check(
    "extend-ttl-no-ttl",
    "extend_ttl gives a key without a TTL one",
    hint=2,
    lesson="EXPIRE's options",
)
def extend_ttl_no_ttl(ctx: CheckContext) -> None:
    _extend(ctx, {}, "no TTL")


@check(
    "extend-ttl-missing",
    "extend_ttl on a missing key returns False and creates nothing",
    hint=2,
    lesson="Setting a TTL",
)
def extend_ttl_missing(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    result = advice.call(ctx, "extend_ttl", ctx.client, KEY, 300)
    if ctx.server.exists(KEY):
        ctx.fail(
            f"extend_ttl on a missing key created it (value {ctx.server.get(KEY)!r}). A TTL is "
            "about keys that exist: EXPIRE answers 0 for a missing key and creates nothing."
        )
    ctx.require(
        _is_false(result), f"extend_ttl on a missing key returned {result!r}; expected False."
    )


# -- make_persistent ---------------------------------------------------------------------


def _non_positive(argument: object) -> bool:
    try:
        return int(str(argument)) <= 0
    except ValueError:
        return False


def _persist(ctx: CheckContext, before: dict[str, int] | None) -> tuple[object, int]:
    ctx.use_keys(KEY)
    if before is not None:
        ctx.server.set(KEY, "v", **before)
    mark = ctx.client.call_log.mark()
    result = advice.call(ctx, "make_persistent", ctx.client, KEY)
    expiries = _sent(ctx, mark, inspect.EXPIRY_COMMANDS)
    deleted = before is not None and not ctx.server.exists(KEY)
    if deleted and any(_non_positive(c.args[2]) for c in expiries):
        ctx.fail(
            "make_persistent deleted the key: EXPIRE with -1 or 0 deletes a key at once. -1 is "
            "only what TTL answers for a key without expiry; PERSIST is the command that "
            "removes a TTL."
        )
    _rewrote_value(ctx, mark, "make_persistent")
    return result, ctx.server.ttl(KEY)


@check(
    "make-persistent",
    "make_persistent removes a TTL, keeps the value and returns True",
    hint=2,
    lesson="Setting a TTL",
)
def make_persistent(ctx: CheckContext) -> None:
    result, ttl = _persist(ctx, {"ex": 100})
    ctx.require(ttl != -2, "make_persistent deleted the key; it should only remove its TTL.")
    ctx.require(ttl == -1, f"After make_persistent the TTL is {ttl}; expected -1 (no expiry).")
    ctx.require(
        ctx.server.get(KEY) == "v", "make_persistent changed the value; only the TTL should go."
    )
    ctx.require(
        _is_true(result),
        f"make_persistent returned {result!r} after removing a TTL; expected True.",
    )


@check(
    "make-persistent-last-second",
    "make_persistent removes a TTL of under a second too",
    hint=2,
    lesson="Setting a TTL",
)
def make_persistent_last_second(ctx: CheckContext) -> None:
    # PX 400: TTL answers 0 (it rounds), yet the key has a TTL and expires unless persisted.
    # A run delayed past the 400 ms finds the key gone: that attempt is not judged.
    for _ in range(3):
        mark = ctx.client.call_log.mark()
        result, ttl = _persist(ctx, {"px": LAST_SECOND_PX})
        if ttl != -2 or _is_true(result) or _saw_ttl_left_it(ctx, mark):
            break
    else:
        ctx.fail(
            f"Not judged: the key set with a {LAST_SECOND_PX} ms TTL expired before "
            "make_persistent ran, three times. The machine may be very busy: check again."
        )
    if ttl != -1 or not _is_true(result):
        ctx.fail(
            f"On a key with {LAST_SECOND_PX} ms left, make_persistent returned {result!r} and "
            f"left {'no key: it expired' if ttl == -2 else f'a TTL of {ttl} s'}; expected True "
            "and no TTL. TTL answers 0 for a key with under half a second left, and 0 is a "
            "TTL too (only -1 means none). PERSIST removes any TTL and says whether it did: "
            "no need to read the TTL first."
        )


@check(
    "make-persistent-no-ttl",
    "make_persistent on a key without a TTL returns False and leaves it alone",
    hint=2,
    lesson="Setting a TTL",
)
def make_persistent_no_ttl(ctx: CheckContext) -> None:
    result, ttl = _persist(ctx, {})
    ctx.require(
        ttl == -1 and ctx.server.get(KEY) == "v",
        f"make_persistent changed a key that had no TTL (TTL now {ttl}, value "
        f"{ctx.server.get(KEY)!r}); it should stay as it was.",
    )
    ctx.require(
        _is_false(result),
        f"make_persistent returned {result!r} for a key that has no TTL; expected False: "
        "PERSIST answers 0 when there was no TTL to remove.",
    )


@check(
    "make-persistent-missing",
    "make_persistent on a missing key returns False and creates nothing",
    hint=2,
    lesson="Setting a TTL",
)
def make_persistent_missing(ctx: CheckContext) -> None:
    result, ttl = _persist(ctx, None)
    ctx.require(
        ttl == -2, f"make_persistent created a key that was missing ({ctx.server.get(KEY)!r})."
    )
    ctx.require(
        _is_false(result),
        f"make_persistent returned {result!r} for a missing key; expected False: PERSIST "
        "answers 0 when there was no TTL to remove.",
    )


#: The TTL of the key make_persistent must rescue, in milliseconds: TTL rounds it to 0.
LAST_SECOND_PX = 400

# -- update_keep_ttl ---------------------------------------------------------------------

#: Longer than the new value 'new': an in-place overwrite would leave its tail behind.
OLD_VALUE = "an older, longer value"
#: 200.7 s: TTL rounds it to 201, so reading TTL and writing it back makes the TTL grow.
KEPT_PTTL_MS = 200_700


def _update(ctx: CheckContext, before: dict[str, int] | None, what: str) -> int:
    """update_keep_ttl(KEY, 'new') on ``before``; the value must be 'new'. Returns PTTL."""
    ctx.use_keys(KEY)
    if before is not None:
        ctx.server.set(KEY, OLD_VALUE, **before)
    mark = ctx.client.call_log.mark()
    try:
        advice.call(ctx, "update_keep_ttl", ctx.client, KEY, "new")
    except CheckFailed as failure:
        reads = _sent(ctx, mark, TTL_READS)
        if reads and "invalid expire time" in str(failure):
            ctx.fail(
                f"On {what}: {failure}. The code read the TTL ({reads[0].name} answered "
                f"{reads[0].call.reply!r}) to write it back, and Valkey refuses that as an "
                "expiry. KEEPTTL keeps whatever the key has, no TTL included, in one command."
            )
        ctx.fail(f"On {what}: {failure}")
    reads = _sent(ctx, mark, TTL_READS)
    writes = [
        c
        for c in _sent(ctx, mark, {"SET", "SETEX", "PSETEX", *inspect.EXPIRY_COMMANDS})
        if c.name != "SET" or _options([c]) & {"EX", "PX", "EXAT", "PXAT"}
    ]
    # WATCH makes a read-then-write safe: EXEC refuses to write if the key changed meanwhile.
    watched = _sent(ctx, mark, {"WATCH"})
    if reads and writes and not watched:
        in_seconds = reads[0].name in {"TTL", "EXPIRETIME"} or any(
            c.name in {"SETEX", "EXPIRE", "EXPIREAT"} or _options([c]) & {"EX", "EXAT"}
            for c in writes
        )
        rounding = f" (and {reads[0].name} rounds to whole seconds)" if in_seconds else ""
        ctx.fail(
            f"update_keep_ttl read the TTL ({reads[0].name}) and wrote it back "
            f"({_spelled(writes[0])}): not atomic. Time passes between the two commands"
            f"{rounding}, so the key does not keep the time it had, and a write by another "
            "client in between is lost. Use set(key, value, keepttl=True): SET ... KEEPTTL "
            "does it in one command."
        )
    value = ctx.server.get(KEY)
    overwritten = _sent(ctx, mark, {"SETRANGE"})
    if overwritten and value != "new":
        ctx.fail(
            f"On {what}, update_keep_ttl left {value!r}: SETRANGE writes the new value over "
            f"the first bytes of the old one ({OLD_VALUE!r}) and keeps the rest when the old "
            "value is longer. Use set(key, value, keepttl=True): it replaces the whole value "
            "and keeps the TTL."
        )
    if value is None and "XX" in _options(_sent(ctx, mark, {"SET"})):
        ctx.fail(
            f"update_keep_ttl did not create {what}: xx=True writes only keys that exist. The "
            "docstring asks for a missing key to be created, without a TTL."
        )
    ctx.require(
        value == "new", f"On {what}, update_keep_ttl left the value {value!r}; expected 'new'."
    )
    return int(ctx.server.pttl(KEY))


@check(
    "update-keeps-ttl",
    "update_keep_ttl changes the value and keeps the remaining TTL, atomically",
    hint=3,
    lesson="The pitfall: SET throws the TTL away",
)
def update_keeps_ttl(ctx: CheckContext) -> None:
    pttl = _update(ctx, {"px": KEPT_PTTL_MS}, "a key with 200.7 s left")
    if pttl == -1:
        writes = [
            (name, args)
            for name, args, _call in inspect.commands(ctx.learner_calls())
            if name in {"SET", "GETSET", "MSET", "SETNX", "GETDEL", "DEL", "UNLINK", "PERSIST"}
        ]
        named = {
            "GETSET": "GETSET, like a plain SET, throws the old TTL away (and is deprecated)",
            "MSET": "MSET, like a plain SET, throws the old TTL away",
            "PERSIST": "PERSIST removes the TTL",
            "DEL": "deleting the key and setting it again throws the old TTL away",
            "UNLINK": "deleting the key and setting it again throws the old TTL away",
            "GETDEL": "GETDEL then a new SET throws the old TTL away",
        }
        found = next((named[name] for name, _ in writes if name in named), None)
        if found is None and any(
            name == "SET" and "GET" in {str(a).upper() for a in args[3:]} for name, args in writes
        ):
            found = "SET ... GET without KEEPTTL throws the old TTL away, like a plain SET"
        ctx.fail(
            f"update_keep_ttl lost the TTL (TTL answers -1): "
            f"{found or 'a plain SET throws the old TTL away'}. "
            "Use set(key, value, keepttl=True) (SET ... KEEPTTL)."
        )
    ctx.require(
        pttl <= KEPT_PTTL_MS,
        f"After update_keep_ttl the key has {pttl} ms left, more than the {KEPT_PTTL_MS} ms it "
        "had: the TTL was set again, not kept.",
    )
    ctx.require(
        pttl >= KEPT_PTTL_MS - 10_000,
        f"After update_keep_ttl the key has {pttl} ms left; expected the ~{KEPT_PTTL_MS} ms it "
        "had.",
    )


@check(
    "update-keeps-no-ttl",
    "update_keep_ttl leaves a key without a TTL without one",
    hint=3,
    lesson="The pitfall: SET throws the TTL away",
)
def update_keeps_no_ttl(ctx: CheckContext) -> None:
    pttl = _update(ctx, {}, "a key without a TTL")
    ctx.require(
        pttl == -1,
        f"update_keep_ttl gave a key that had no TTL one ({pttl} ms); it should keep having none.",
    )


@check(
    "update-missing-key",
    "update_keep_ttl creates a missing key, without a TTL",
    hint=3,
    lesson="The pitfall: SET throws the TTL away",
)
def update_missing_key(ctx: CheckContext) -> None:
    pttl = _update(ctx, None, "a missing key")
    ctx.require(
        pttl == -1, f"update_keep_ttl created a missing key with a TTL ({pttl} ms); expected none."
    )


# -- ttl_status --------------------------------------------------------------------------


@check(
    "ttl-status",
    "ttl_status tells missing, persistent and expiring apart",
    hint=2,
    lesson="Setting a TTL",
)
def ttl_status(ctx: CheckContext) -> None:
    ctx.use_keys(KEY)
    cases = (
        ("missing", lambda: ctx.server.delete(KEY), "a missing key (TTL answers -2)"),
        ("persistent", lambda: ctx.server.set(KEY, "v"), "a key without expiry (TTL answers -1)"),
        (
            "persistent",
            lambda: ctx.server.set(KEY, ""),
            "a key holding an empty string, without expiry (it exists: TTL answers -1)",
        ),
        ("expiring", lambda: ctx.server.set(KEY, "v", ex=50), "a key with a 50 s TTL"),
        (
            "expiring",
            lambda: ctx.server.set(KEY, "v", px=490),
            "a key with under half a second left (TTL rounds that to 0: only -1 means no expiry)",
        ),
    )
    for expected, prepare, what in cases:
        prepare()
        mark = ctx.client.call_log.mark()
        result = advice.call(ctx, "ttl_status", ctx.client, KEY)
        if isinstance(result, bytes):
            ctx.fail(
                f"ttl_status returned bytes ({result!r}) for {what}; expected the str "
                f"{expected!r}. The client decodes replies (decode_responses=True) and callers "
                "compare with str: return a str, not bytes."
            )
        gone = expected == "expiring" and _found_missing(ctx, ctx.client.call_log.records(mark))
        if result != expected and not gone:
            ctx.fail(
                f"ttl_status returned {result!r} for {what}; expected {expected!r}. "
                "TTL answers -2 for a missing key and -1 for a key that never expires."
            )


def _saw_ttl_left_it(ctx, mark):
    """Whether the learner's code read a TTL of 0 or more on KEY (the key was there, expiring)
    and sent no PERSIST: the key it left has run out by now, but that is the code's doing, so
    the attempt is judged rather than tried again (under load it ran out every time, and a
    wrong answer was told "Not judged")."""
    calls = ctx.client.call_log.records(mark)
    if _sent(ctx, mark, {"PERSIST"}):
        return False
    return any(
        call.batch is None
        and call.error is None
        and len(call.args) > 1
        and str(call.args[0]).upper() in ("TTL", "PTTL")
        and str(call.args[1]) == KEY
        and isinstance(call.reply, int)
        and call.reply >= 0
        for call in calls
    )


#: What a reply says of KEY's presence, by command: True (there), False (missing).
_PRESENCE = {
    "TTL": lambda reply: reply != -2,
    "PTTL": lambda reply: reply != -2,
    "EXISTS": bool,
    "TYPE": lambda reply: reply not in ("none", b"none"),
}


def _found_missing(ctx, calls):
    """Whether the learner's own look found the short-lived key already gone (so "missing" was
    the truth then). Judged by its replies, not by the key now: under load the key can run out
    between the answer and the check's look, which once excused a wrong answer."""
    seen = []
    for call in calls:
        if call.batch is not None or call.error is not None or not call.args:
            continue  # a pipeline's replies are not split out here; a failed call saw nothing
        name = str(call.args[0]).upper()
        if name in _PRESENCE and KEY in [str(arg) for arg in call.args[1:]]:
            seen.append(_PRESENCE[name](call.reply))
    if not seen:  # a script or another client: only the key itself can tell
        return not ctx.server.exists(KEY)
    return not all(seen)


#: A key and a value beyond ASCII: a function must treat every key alike.
UNICODE_KEY = "workshop:ttl:ключ é 🙂"
UNICODE_VALUE = "значение ✓"


@check(
    "dropped-connection",
    "A dropped connection reaches the caller; keys and values beyond ASCII work alike",
)
def dropped_connection(ctx: CheckContext) -> None:
    ctx.use_keys(UNICODE_KEY)

    def fresh(ttl_ms=None):
        ctx.server.delete(UNICODE_KEY)
        if ttl_ms is not None:
            ctx.server.set(UNICODE_KEY, "old", px=ttl_ms)

    def stores(client):
        fresh()
        return ctx.implementation("cache_with_ttl")(client, UNICODE_KEY, UNICODE_VALUE, 60)

    def extends(client):
        fresh(50_000)
        return ctx.implementation("extend_ttl")(client, UNICODE_KEY, 90)

    def persists(client):
        fresh(50_000)
        return ctx.implementation("make_persistent")(client, UNICODE_KEY)

    def updates(client):
        fresh(50_000)
        return ctx.implementation("update_keep_ttl")(client, UNICODE_KEY, UNICODE_VALUE)

    def status(client):
        fresh(50_000)
        return ctx.implementation("ttl_status")(client, UNICODE_KEY)

    # First with a working connection: a key and value beyond ASCII are stored like any other.
    ctx.call("cache_with_ttl", ctx.client, UNICODE_KEY, UNICODE_VALUE, 60)
    stored, ttl = ctx.server.get(UNICODE_KEY), ctx.server.ttl(UNICODE_KEY)
    ctx.require(
        stored == UNICODE_VALUE and 0 < ttl <= 60,
        f"cache_with_ttl({UNICODE_KEY!r}, {UNICODE_VALUE!r}, 60) left {stored!r} with TTL "
        f"{ttl}; expected the value with a TTL of up to 60 s: every key works alike.",
    )
    fresh(50_000)
    ctx.call("update_keep_ttl", ctx.client, UNICODE_KEY, UNICODE_VALUE)
    ctx.require(
        ctx.server.get(UNICODE_KEY) == UNICODE_VALUE,
        f"update_keep_ttl({UNICODE_KEY!r}, {UNICODE_VALUE!r}) left "
        f"{ctx.server.get(UNICODE_KEY)!r}: every key works alike.",
    )
    for call, attempt, why in (
        ("cache_with_ttl()", stores, "the caller believes the value is cached"),
        ("extend_ttl()", extends, "the caller believes the TTL was extended, or the key gone"),
        ("make_persistent()", persists, "the caller believes the key was made persistent"),
        ("update_keep_ttl()", updates, "the caller believes the value was updated"),
        ("ttl_status()", status, "the caller gets a status no server gave"),
    ):
        faults.require_failure_reaches_caller(ctx, call, attempt, why=why)
