"""The API lab authors write checks with (``labs/<module>/<step>/checks.py``).

A check is a function taking a :class:`CheckContext`, marked with :func:`check`. It passes by
returning and fails by calling :meth:`CheckContext.fail` (or :meth:`CheckContext.require`)
with a message that says what it saw, what it expected and why that matters. Checks run in
definition order, in a separate process, against the live server.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn, TypeVar

import valkey

from valkey_workshop.checking.seeds import run_seed
from valkey_workshop.labdb import ProductDatabase
from valkey_workshop.timing.client import TimedValkey, connect
from valkey_workshop.timing.records import CallLog, CallRecord

CheckFunction = Callable[["CheckContext"], None]
F = TypeVar("F", bound=CheckFunction)
T = TypeVar("T")

#: How many smaller cases a counterexample search tries at most while shrinking.
SHRINK_TRIALS = 200

#: Database latency in checks: a real sleep, so a call takes time as a database's does, and
#: short, because no check judges by it (they count calls; a check that needs a slow read asks
#: for one) while the generated scenarios make hundreds of calls a run. 5 ms cost step 02's
#: verify a third of its time.
CHECK_DB_LATENCY_SECONDS = 0.001


@dataclass(frozen=True)
class CheckSpec:
    """What the ``@check`` decorator records on a check function."""

    id: str
    name: str
    hint: int | None
    lesson: str | None = None


def check(
    check_id: str, name: str, *, hint: int | None = None, lesson: str | None = None
) -> Callable[[F], F]:
    """Mark a function as a check.

    Args:
        check_id: stable id (wrong answers in ``step.toml`` refer to it).
        name: what the check proves, shown to the learner ("A hit skips the database").
        hint: the number of the step hint that helps when this check fails.
        lesson: the heading of the lesson section that explains what this check wants.
    """

    def mark(function: F) -> F:
        function.__workshop_check__ = CheckSpec(check_id, name, hint, lesson)  # type: ignore[attr-defined] # a marker attribute
        return function

    return mark


def checks_in(module: ModuleType) -> list[tuple[CheckSpec, CheckFunction]]:
    """The checks a checks module defines, in definition order."""
    found = []
    for value in vars(module).values():
        spec = getattr(value, "__workshop_check__", None)
        if isinstance(spec, CheckSpec):
            found.append((spec, value))
    return found


class CheckFailed(Exception):  # noqa: N818 - reads as a sentence: raise CheckFailed(...)
    """A check did not hold; the message is shown to the learner."""


class TooManyRoundTrips(BaseException):
    """Raised by the learner's client inside :meth:`CheckContext.round_trips_at_most` once it
    has sent more single commands than allowed (a BaseException: ``except Exception`` in
    learner code does not hide it)."""


class CheckContext:
    """What a check gets: the learner's module, clients, a product database, helpers.

    Attributes:
        exercise: the learner's exercise file, imported as a module.
        exercise_file: its path.
        client: the learner's client: timed, ``decode_responses=True``; hand it to their code.
        server: the check's own client for looking at the server; its calls are not logged
            as the learner's.
        url: the server's URL (with its password), for steps where learners connect themselves.
    """

    def __init__(
        self, exercise: ModuleType, exercise_file: Path, url: str, seed: int | None = None
    ) -> None:
        self.exercise = exercise
        self.exercise_file = exercise_file
        self.url = url
        self.seed = seed if seed is not None else run_seed()
        #: Different on every run, even a replayed one: generated product ids carry it, so no
        #: key a check makes can be an application's key on a ``--url`` server.
        self.run_tag = secrets.token_hex(3)
        self._check_number = 0
        self.random = random.Random(self.seed)  # noqa: S311 - scenarios, not secrets: a seed replays them
        self.products: dict[str, dict[str, Any]] = {}
        self.client: TimedValkey = connect(url, CallLog())
        self.server: valkey.Valkey = valkey.Valkey.from_url(url, decode_responses=True)
        self._mark = 0
        self._extra_clients: list[valkey.Valkey] = []
        self._scratch_keys: set[str] = set()
        self.notes: list[str] = []

    # -- the learner's code -------------------------------------------------------------
    def implementation(self, name: str) -> Callable[..., Any]:
        """The learner's function ``name``; fails the check if it is missing."""
        function = getattr(self.exercise, name, None)
        if function is None:
            self.fail(
                f"{self.exercise_file.name} has no function {name}(); keep the starter's names."
            )
        if not callable(function):
            self.fail(f"{name} in {self.exercise_file.name} should be a function.")
        return function  # type: ignore[no-any-return] # learner code is untyped

    def setting(self, name: str) -> Any:
        """The learner's module-level constant ``name``; fails the check if it is missing."""
        if not hasattr(self.exercise, name):
            self.fail(f"{self.exercise_file.name} has no {name}; keep the starter's names.")
        return getattr(self.exercise, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's function, turning what it raises into a clear failure."""
        function = self.implementation(name)
        try:
            return function(*args, **kwargs)
        except CheckFailed:
            raise
        except NotImplementedError:
            self.fail(
                f"{name}() is not written yet (it raises NotImplementedError): "
                f"fill in the TODOs in {self.exercise_file.name}."
            )
        except SystemExit as error:
            self.fail(f"{name}() called sys.exit({error.code!r}); return a value instead.")
        except Exception as error:  # noqa: BLE001 - any learner exception becomes a message
            self.fail(f"{name}() raised {describe_exception(error, self.exercise_file)}")

    # -- the server and the database ----------------------------------------------------
    def database(
        self,
        latency_seconds: float = CHECK_DB_LATENCY_SECONDS,
        before_update: Callable[[str, dict[str, Any]], None] | None = None,
        faults: dict[int, BaseException] | None = None,
    ) -> ProductDatabase:
        """A fresh product database (counts start at zero) that also knows the products
        :meth:`product_id` made up; ``faults`` maps a call's number (1 = the first call,
        reads and writes counted together) to what that call raises instead of answering."""
        return ProductDatabase(
            latency_seconds=latency_seconds,
            before_update=before_update,
            extra=self.products,
            faults=faults,
        )

    def another_client(self, **options: Any) -> valkey.Valkey:
        """One more connection to the server (another application instance)."""
        options.setdefault("decode_responses", True)
        client = valkey.Valkey.from_url(self.url, **options)
        self._extra_clients.append(client)
        return client

    def use_keys(self, *keys: str) -> None:
        """Start the check with these keys absent; they are deleted again when checks end."""
        self._scratch_keys.update(keys)
        if keys:
            self.server.delete(*keys)

    def connection_kwargs(self) -> dict[str, Any]:
        """host/port/password/... for learners who build their own client (with ``ssl=True``
        and the ssl_* options when the session's server is reached over TLS)."""
        pool = valkey.ConnectionPool.from_url(self.url)
        kwargs = dict(pool.connection_kwargs)
        kwargs.pop("connection_class", None)
        if issubclass(pool.connection_class, valkey.SSLConnection):
            kwargs["ssl"] = True
        return kwargs

    def learner_calls(self) -> list[CallRecord]:
        """The learner client's round trips since this check started."""
        return self.client.call_log.records(self._mark)

    def begin(self) -> None:
        """Called by the runner before each check: the learner's call list starts empty."""
        self._mark = self.client.call_log.mark()
        self.notes.clear()
        # Each check draws from its own stream: what one check draws does not depend on how
        # many values the checks before it drew.
        self._check_number += 1
        self.random = random.Random(f"{self.seed}:{self._check_number}")  # noqa: S311 - as above

    # -- generated scenarios ------------------------------------------------------------
    def product_id(self, style: str = "any") -> str:
        """A made-up product id the check's database knows (its record is in
        :attr:`products`), unique to this run: ``style`` is "plain" (``G3f1a2c-17``),
        "unicode" (`` Gé漢 :…- ``, spaces at both ends and inside, symbols included) or
        "any" (either)."""
        number = len(self.products) + 1
        if style == "any":
            style = self.random.choice(("plain", "plain", "unicode"))
        if style == "unicode":
            # At least one character beyond ASCII, a space and a colon (a key name that
            # replaces them no longer matches), then any two; a space at each end too, so a
            # key built from a stripped id is another product's key.
            beyond = [part for part in UNICODE_ID_PARTS if not part.isascii()]
            middle = (
                self.random.choice(beyond)
                + self.random.choice((" :", ": ", " : "))
                + "".join(self.random.choice(UNICODE_ID_PARTS) for _ in range(2))
            )
            product_id = f" G{middle}-{self.run_tag}-{number} "
        else:
            product_id = f"G{self.run_tag}-{number}"
        self.products[product_id] = {
            "id": product_id,
            "name": f"Generated gadget {number}",
            "price": float(self.random.randint(1, 9999)) / 4,
            "colour": self.random.choice(("red", "blue", "green")),
            "stock": self.random.randint(0, 500),
        }
        return product_id

    def changes(self) -> dict[str, Any]:
        """A ``changes`` dict as an application might send: one to four fields, any of the
        record's fields or new ones, never only the price."""
        fields = list(CHANGE_FIELDS)
        self.random.shuffle(fields)
        chosen = fields[: self.random.randint(1, 4)]
        if chosen == ["price"]:
            chosen = ["name"]
        return {name: CHANGE_FIELDS[name](self.random) for name in chosen}

    @contextlib.contextmanager
    def round_trips_at_most(self, limit: int) -> Iterator[None]:
        """While inside: the learner's client raises :class:`TooManyRoundTrips` once it has
        sent more than ``limit`` single commands (each still logged), so code that works one
        element or one id at a time ends in a moment, not at the step's time limit."""
        log = self.client.call_log
        record = log.append
        sent = 0

        def counted(entry: tuple[object, object, int, int]) -> None:
            nonlocal sent
            record(entry)
            sent += 1
            if sent > limit:
                raise TooManyRoundTrips

        log.append = counted  # the hot path appends through this attribute
        try:
            yield
        finally:
            log.append = record

    def search(
        self,
        cases: Iterable[T],
        trial: Callable[[T], str | None],
        shrink: Callable[[T], Iterable[T]] | None = None,
    ) -> None:
        """Try ``trial`` on each case; at the first that fails (returns what went wrong, in
        words that name the case), try the smaller cases ``shrink`` offers, keep the smallest
        that still fails, and fail the check with its words and this run's seed."""
        for case in cases:
            problem = trial(case)
            if problem is not None:
                _, problem = _shrunk(case, problem, trial, shrink)
                self.fail(f"{problem} {self.replay_note()}")

    def replay_note(self) -> str:
        """``(seed 123: workshop check --seed 123 tries the same cases)``."""
        return f"(seed {self.seed}: workshop check --seed {self.seed} tries the same cases)"

    def close(self) -> None:
        if self._scratch_keys:
            self.server.delete(*self._scratch_keys)
        for client in [self.client, self.server, *self._extra_clients]:
            client.close()

    # -- verdicts -----------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Something worth showing even when the check passes (a measurement, say)."""
        self.notes.append(text)

    def fail(self, message: str) -> NoReturn:
        """Fail the check with ``message`` (what was seen, what was expected, why)."""
        raise CheckFailed(message)

    def require(self, condition: object, message: str) -> None:
        """Fail with ``message`` unless ``condition`` holds."""
        if not condition:
            raise CheckFailed(message)


#: Characters generated ids are made of besides ASCII: accents, CJK, emoji, a space, symbols
#: that mean something in a glob or a key pattern.
UNICODE_ID_PARTS = ("é", "漢", "ß", "Ж", "🙂", " ", "*", "?", "[", ":", "{", "ø", "ñ", "-")


def _shrunk(
    case: T,
    problem: str,
    trial: Callable[[T], str | None],
    shrink: Callable[[T], Iterable[T]] | None,
) -> tuple[T, str]:
    """The smallest case ``shrink`` leads to from ``case`` that still fails, with its words:
    greedy, taking the first smaller case that fails, at most SHRINK_TRIALS trials."""
    trials = 0
    shrunk = shrink is not None
    while shrunk and shrink is not None and trials < SHRINK_TRIALS:
        shrunk = False
        for smaller in shrink(case):
            trials += 1
            smaller_problem = trial(smaller)
            if smaller_problem is not None:
                case, problem, shrunk = smaller, smaller_problem, True
                break
            if trials >= SHRINK_TRIALS:
                break
    return case, problem


def smaller_counts(count: int, least: int = 1) -> Iterator[int]:
    """Smaller counts to shrink ``count`` towards ``least``, smallest first: the halfway
    point, then ever closer to ``count`` (``count - 1`` last). With ``ctx.search``'s greedy
    shrinking, that is a binary search: the smallest failing count after about log2(count)
    trials per step down, where offering ``count - 1`` alone takes one trial per count."""
    gap = (count - least) // 2
    if count > least:
        yield least + gap if gap else least
    while gap > 1:
        gap //= 2
        yield count - gap


def _price(generator: random.Random) -> float:
    return generator.randint(1, 99999) / 4


#: Fields a generated ``changes`` dict may set, and how to draw a value for each.
CHANGE_FIELDS: dict[str, Callable[[random.Random], Any]] = {
    "name": lambda g: g.choice(("Luxury Widget, now blue", "Gadget Ⅱ", "Widget «Pro»")),
    "price": _price,
    "colour": lambda g: g.choice(("teal", "orange", "crimson")),
    "stock": lambda g: g.randint(0, 10_000),
    "description": lambda g: g.choice(("Hand made.", "Ships in 2 days", "新品")),
    "tags": lambda g: g.sample(["sale", "new", "eco", "gift"], g.randint(1, 3)),
    "discontinued": lambda g: g.choice((True, False)),
}


def describe_exception(error: BaseException, exercise_file: Path) -> str:
    """``KeyError: 'id' (02_cache_aside.py line 14: return record["id"])``."""
    where = ""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if Path(frame.filename).resolve() == exercise_file.resolve():
            code = f": {frame.line.strip()}" if frame.line else ""
            where = f" ({exercise_file.name} line {frame.lineno}{code})"
            break
    text = str(error)
    return f"{type(error).__name__}: {text}{where}" if text else f"{type(error).__name__}{where}"
