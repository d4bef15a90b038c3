"""Mutation operators, and the generator that turns a solution into mutants.

An operator looks at one node of a solution's syntax tree and proposes :class:`Edit` objects:
each one changes exactly one thing. The generator applies every edit to a fresh copy of the
tree and unparses it (``ast.unparse``), so a mutant differs from the solution by one edit.

Most operators know valkey-py: they drop ``keepttl=True``, swap ``ex`` for ``px``, replace
``SET ... NX`` by EXISTS then SET, send a pipeline once per command. The generic ones
(numbers, comparisons, statements) follow mutmut and cosmic-ray.

A mutant's id is ``<operator>:<function>:<hash>``: the hash covers the operator, the
enclosing function, the code of the node it changes and the code that replaces it, never a
line number or a description, so ids survive edits elsewhere in the file and
``[[equivalent_mutants]]`` declarations in ``step.toml`` do not rot.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

#: Where a node sits in its tree: (field, index in that field's list or None) from the root.
NodePath = tuple[tuple[str, int | None], ...]
#: What an edit puts where the node was: a node, statements spliced in, or None to remove it.
Replacement = ast.AST | list[ast.stmt] | None

MODULE_LEVEL = "<module>"


@dataclass(frozen=True)
class Where:
    """The place of a node: its path, the function around it and its parent."""

    path: NodePath
    function: str
    parent: ast.AST | None
    #: Annotations of the enclosing function's parameters, as source: ``(("keys", "list[str]"),)``.
    params: tuple[tuple[str, str], ...] = ()
    #: The whole module being mutated (operators that derive a value from the code read it).
    tree: ast.AST | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def slot(self) -> tuple[str, int | None]:
        return self.path[-1] if self.path else ("", None)

    def annotation_of(self, name: str) -> str | None:
        return next((text for param, text in self.params if param == name), None)


@dataclass(frozen=True)
class Edit:
    """One proposed change. ``change`` gets the node at the same path in a copy of the tree
    and returns its replacement (the same node changed in place, a new node, a list of
    statements, or None to remove a statement)."""

    description: str
    change: Callable[[ast.AST], Replacement]
    #: What identifies the edit in the mutant's id when the node's own source does not (an
    #: edit of a statement list names the statements it moves).
    anchor: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Mutant:
    """A solution changed in one place."""

    id: str
    operator: str
    #: Where: the function (``outer.inner``), the module-level constant, or ``<module>``.
    function: str
    line: int
    description: str
    source: str


@dataclass(frozen=True)
class Generated:
    """Every mutant of a source, and how many edits gave no usable mutant."""

    mutants: tuple[Mutant, ...]
    #: Edits whose result did not compile, or equals the solution or an earlier mutant.
    discarded: int


class Operator:
    """A kind of mistake. Subclasses set ``name`` and ``summary`` and yield edits."""

    name: str = ""
    summary: str = ""

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:  # pragma: no cover
        raise NotImplementedError


# -- helpers ----------------------------------------------------------------------------
def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def _short(node: ast.AST, limit: int = 40) -> str:
    text = " ".join(_src(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _method(node: ast.AST) -> str | None:
    """``set`` for ``client.set(...)``; None for anything that is not a method call."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((kw for kw in call.keywords if kw.arg == name), None)


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _becomes(node: ast.expr) -> Callable[[ast.AST], Replacement]:
    """An edit's change that puts (a copy of) ``node`` where the node was."""

    def change(_: ast.AST) -> Replacement:
        return copy.deepcopy(node)

    return change


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _receiver_call(call: ast.Call, method: str, args: Sequence[ast.expr]) -> ast.Call:
    """``<the same receiver>.method(*args)``."""
    assert isinstance(call.func, ast.Attribute)
    return ast.Call(
        func=ast.Attribute(value=copy.deepcopy(call.func.value), attr=method, ctx=ast.Load()),
        args=[copy.deepcopy(arg) for arg in args],
        keywords=[],
    )


def _without(call: ast.Call, *names: str) -> ast.Call:
    changed = copy.deepcopy(call)
    changed.keywords = [kw for kw in changed.keywords if kw.arg not in names]
    return changed


def _key_argument(call: ast.Call) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    keyword = _keyword(call, "name")
    return keyword.value if keyword else None


_BODY_FIELDS = ("body", "orelse", "finalbody")


def _statement_lists(node: ast.AST) -> Iterator[tuple[str, list[ast.stmt]]]:
    for name in _BODY_FIELDS:
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield name, value


def _in_function(where: Where) -> bool:
    return where.function != MODULE_LEVEL


# -- valkey-py operators ----------------------------------------------------------------
class DropKeyword(Operator):
    """``set(k, v, keepttl=True)`` → ``set(k, v)``: any keyword argument of any call."""

    name = "drop-keyword"
    summary = "drop a keyword argument (ex, keepttl, nx, transaction, protocol, bcast, ...)"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not isinstance(node, ast.Call):
            return
        for index, keyword in enumerate(node.keywords):

            def change(target: ast.AST, index: int = index) -> Replacement:
                assert isinstance(target, ast.Call)
                del target.keywords[index]
                return target

            if keyword.arg is None:  # ``**options``: every option it carries
                yield Edit(f"drop **{_short(keyword.value, 20)}", change)
            else:
                yield Edit(f"drop {keyword.arg}={_short(keyword.value, 20)}", change)


#: Atomic options of SET and EXPIRE, and the read that a learner puts in their place.
_EXPIRE_GUARDS = {
    "nx": ("==", -1),  # only when the key has no TTL
    "xx": (">=", 0),  # only when it has one
}


class ReadThenWrite(Operator):
    """An atomic option replaced by a read, then a write: two commands with a gap between.

    ``set(k, v, keepttl=True)`` → ``set(k, v, ex=max(ttl(k), 1))``;
    ``set(k, v, nx=True)`` → ``not exists(k) and set(k, v)``; ``xx`` → ``exists(k) and ...``;
    ``expire(k, s, nx=True)`` → ``ttl(k) == -1 and expire(k, s)``;
    ``expire(k, s, gt=True)`` → ``ttl(k) < s and expire(k, s)``.
    """

    name = "read-then-write"
    summary = "an atomic option (KEEPTTL, NX, XX, GT, LT) replaced by a read, then a write"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        method = _method(node)
        if not isinstance(node, ast.Call) or method is None:
            return
        key = _key_argument(node)
        if key is None:
            return
        if method == "set":
            yield from self._set_edits(node, key)
        elif method in {"expire", "pexpire"}:
            yield from self._expire_edits(node, key, method)

    def _set_edits(self, call: ast.Call, key: ast.expr) -> Iterator[Edit]:
        keepttl = _keyword(call, "keepttl")
        if keepttl is not None and _is_true(keepttl.value):

            def keep(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Call)
                changed = _without(target, "keepttl")
                remaining = ast.Call(
                    func=ast.Name("max", ast.Load()),
                    args=[_receiver_call(target, "ttl", [key]), ast.Constant(1)],
                    keywords=[],
                )
                changed.keywords.append(ast.keyword(arg="ex", value=remaining))
                return changed

            yield Edit("keepttl=True → ex=max(ttl(key), 1) (TTL read first)", keep)
        for option, negate in (("nx", True), ("xx", False)):
            keyword = _keyword(call, option)
            if keyword is None or not _is_true(keyword.value):
                continue

            def guard(target: ast.AST, option: str = option, negate: bool = negate) -> Replacement:
                assert isinstance(target, ast.Call)
                exists: ast.expr = _receiver_call(target, "exists", [key])
                if negate:
                    exists = ast.UnaryOp(ast.Not(), exists)
                return ast.BoolOp(ast.And(), [exists, _without(target, option)])

            word = "not exists(key)" if negate else "exists(key)"
            yield Edit(f"{option}=True → {word} and set(...) (read, then write)", guard)

    def _expire_edits(self, call: ast.Call, key: ast.expr, method: str) -> Iterator[Edit]:
        read = "ttl" if method == "expire" else "pttl"
        seconds = call.args[1] if len(call.args) > 1 else None
        for option in ("nx", "xx", "gt", "lt"):
            keyword = _keyword(call, option)
            if keyword is None or not _is_true(keyword.value):
                continue
            if option in _EXPIRE_GUARDS:
                operator_text, bound = _EXPIRE_GUARDS[option]
                compare_to: ast.expr = ast.Constant(bound)
            elif seconds is not None:
                operator_text, compare_to = ("<" if option == "gt" else ">"), seconds
            else:
                continue
            compare_op: ast.cmpop = {
                "==": ast.Eq(),
                ">=": ast.GtE(),
                "<": ast.Lt(),
                ">": ast.Gt(),
            }[operator_text]

            def guard(
                target: ast.AST,
                option: str = option,
                compare_op: ast.cmpop = compare_op,
                compare_to: ast.expr = compare_to,
            ) -> Replacement:
                assert isinstance(target, ast.Call)
                test = ast.Compare(
                    left=_receiver_call(target, read, [key]),
                    ops=[compare_op],
                    comparators=[copy.deepcopy(compare_to)],
                )
                return ast.BoolOp(ast.And(), [test, _without(target, option)])

            yield Edit(
                f"{option}=True → {read}(key) {operator_text} {_short(compare_to, 12)} "
                f"and {method}(...) (read, then write)",
                guard,
            )


class AddCondition(Operator):
    """A condition the contract does not ask for: ``expire(k, s)`` → ``expire(k, s, xx=True)``
    (False for a key without a TTL), ``set(k, v)`` → ``set(k, v, nx=True)`` (an update that
    never lands), ``client_tracking_on(...)`` → ``client_tracking_on(..., noloop=True)`` (no
    invalidation for the connection's own writes; OPTIN/OPTOUT, the modes BCAST is not)."""

    name = "add-condition"
    summary = "a condition added: EXPIRE ... NX/XX/GT/LT, SET ... NX/XX, TRACKING ... NOLOOP/OPTIN"

    _OPTIONS = {  # noqa: RUF012 - a constant table, never changed
        "expire": ("nx", "xx", "gt", "lt"),
        "pexpire": ("nx", "xx", "gt", "lt"),
        "set": ("nx", "xx"),
        "client_tracking_on": ("noloop", "optin", "optout"),
    }

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        method = _method(node)
        if not isinstance(node, ast.Call) or method not in self._OPTIONS:
            return
        options = self._OPTIONS[method]
        if any(_keyword(node, option) is not None for option in options):
            return  # already conditional: read-then-write and drop-keyword cover it
        for option in options:

            def add(target: ast.AST, option: str = option) -> Replacement:
                assert isinstance(target, ast.Call)
                target.keywords.append(ast.keyword(arg=option, value=ast.Constant(True)))
                return target

            yield Edit(f"{method}(...) → {method}(..., {option}=True)", add)


class SetThenExpire(Operator):
    """``set(k, v, ex=s)`` → ``set(k, v) and expire(k, s)``: the value lives a moment with
    no TTL (and forever if the second command never comes)."""

    name = "set-then-expire"
    summary = "SET ... EX/PX (or SETEX) split into SET, then EXPIRE"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        method = _method(node)
        if not isinstance(node, ast.Call) or method not in {"set", "setex", "psetex"}:
            return
        key = _key_argument(node)
        if key is None:
            return
        if method == "set":
            for option, expire in (("ex", "expire"), ("px", "pexpire")):
                keyword = _keyword(node, option)
                if keyword is None:
                    continue

                def split(
                    target: ast.AST, option: str = option, expire: str = expire
                ) -> Replacement:
                    assert isinstance(target, ast.Call)
                    value = _keyword(target, option)
                    assert value is not None
                    later = _receiver_call(target, expire, [key, value.value])
                    return ast.BoolOp(ast.And(), [_without(target, option), later])

                yield Edit(f"set(..., {option}=...) → set(...) and {expire}(...)", split)
        elif len(node.args) == 3:  # setex(name, time, value)
            expire = "expire" if method == "setex" else "pexpire"

            def split_setex(target: ast.AST, expire: str = expire) -> Replacement:
                assert isinstance(target, ast.Call)
                name, time, value = target.args
                first = _receiver_call(target, "set", [name, value])
                return ast.BoolOp(ast.And(), [first, _receiver_call(target, expire, [name, time])])

            yield Edit(f"{method}(...) → set(...) and {expire}(...)", split_setex)


_UNIT_KEYWORDS = {"ex": "px", "px": "ex", "exat": "pxat", "pxat": "exat"}
_UNIT_METHODS = {
    "expire": "pexpire",
    "pexpire": "expire",
    "expireat": "pexpireat",
    "pexpireat": "expireat",
    "ttl": "pttl",
    "pttl": "ttl",
    "setex": "psetex",
    "psetex": "setex",
    "expiretime": "pexpiretime",
    "pexpiretime": "expiretime",
}


class TimeUnit(Operator):
    """Seconds and milliseconds confused: ``ex`` ↔ ``px``, ``expire`` ↔ ``pexpire``,
    ``ttl`` ↔ ``pttl``."""

    name = "time-unit"
    summary = "seconds and milliseconds confused (ex/px, expire/pexpire, ttl/pttl)"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        method = _method(node)
        if not isinstance(node, ast.Call) or method is None:
            return
        if method in _UNIT_METHODS:
            other = _UNIT_METHODS[method]

            def rename(target: ast.AST, other: str = other) -> Replacement:
                assert isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute)
                target.func.attr = other
                return target

            yield Edit(f"{method}(...) → {other}(...)", rename)
        if method not in {"set", "getex"}:
            return
        for index, keyword in enumerate(node.keywords):
            if keyword.arg not in _UNIT_KEYWORDS:
                continue
            other = _UNIT_KEYWORDS[keyword.arg]

            def swap(target: ast.AST, index: int = index, other: str = other) -> Replacement:
                assert isinstance(target, ast.Call)
                target.keywords[index].arg = other
                return target

            yield Edit(f"{keyword.arg}= → {other}=", swap)


class FirstOnly(Operator):
    """Only the first element: ``("a", "b")`` → ``("a",)``, ``prefix=prefixes`` →
    ``prefix=prefixes[:1]``, ``mget([... for ...])`` → ``mget([... for ...][:1])``.

    Catches code proven with one item only (one prefix, one key, one setting)."""

    name = "first-only"
    summary = "keep only the first element of a list, tuple or dict (literal or argument)"

    _SEQUENCE = re.compile(
        r"^(typing\.)?(list|tuple|set|frozenset|Sequence|Iterable|Collection|List|Tuple)\b"
    )

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.List | ast.Tuple) and self._literal_applies(node, where):

            def first(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.List | ast.Tuple)
                target.elts = target.elts[:1]
                return target

            yield Edit("only the first element", first)
        elif isinstance(node, ast.Dict) and len(node.keys) >= 2:

            def first_item(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Dict)
                target.keys, target.values = target.keys[:1], target.values[:1]
                return target

            yield Edit("only the first item", first_item)
        if isinstance(node, ast.Call):
            yield from self._argument_edits(node, where)

    @staticmethod
    def _literal_applies(node: ast.List | ast.Tuple, where: Where) -> bool:
        if len(node.elts) < 2 or not isinstance(node.ctx, ast.Load):
            return False
        if any(isinstance(elt, ast.Starred) for elt in node.elts):
            return False
        # ``except (A, B)`` and ``x[1, 2]`` are not collections of data.
        return not isinstance(where.parent, ast.ExceptHandler | ast.Subscript)

    def _argument_edits(self, call: ast.Call, where: Where) -> Iterator[Edit]:
        slots: list[tuple[str, int, ast.expr]] = [
            ("args", index, arg) for index, arg in enumerate(call.args)
        ]
        slots += [("keywords", index, kw.value) for index, kw in enumerate(call.keywords) if kw.arg]
        for field, index, value in slots:
            if not self._is_sequence(value, where):
                continue
            yield Edit(
                f"{_short(value, 24)} → only its first element",
                _argument_becomes(field, index, ast.Slice(upper=ast.Constant(1))),
            )
            if isinstance(value, ast.Name):  # one item where a list belongs: ``prefix=p[0]``
                yield Edit(
                    f"{value.id} → {value.id}[0] (one item, not a list)",
                    _argument_becomes(field, index, ast.Constant(0)),
                )

    def _is_sequence(self, value: ast.expr, where: Where) -> bool:
        if isinstance(value, ast.ListComp):
            return True
        if isinstance(value, ast.Name):
            annotation = where.annotation_of(value.id)
            return annotation is not None and bool(self._SEQUENCE.match(annotation))
        return False


def _argument_becomes(
    field: str, index: int, subscript: ast.expr
) -> Callable[[ast.AST], Replacement]:
    """A change that subscripts a call's argument: ``f(x)`` → ``f(x[<subscript>])``."""

    def change(target: ast.AST) -> Replacement:
        assert isinstance(target, ast.Call)
        if field == "args":
            target.args[index] = ast.Subscript(target.args[index], subscript, ast.Load())
        else:
            keyword = target.keywords[index]
            keyword.value = ast.Subscript(keyword.value, subscript, ast.Load())
        return target

    return change


class DropElement(Operator):
    """One element left out of a list or tuple literal of two or more: a setting
    forgotten, a stream id not read, a prefix missing."""

    name = "drop-element"
    summary = "one element of a list or tuple literal left out"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.List | ast.Tuple) and FirstOnly._literal_applies(node, where)):
            return
        for index, element in enumerate(node.elts):

            def drop(target: ast.AST, index: int = index) -> Replacement:
                assert isinstance(target, ast.List | ast.Tuple)
                del target.elts[index]
                return target

            yield Edit(f"left out: {_short(element, 32)}", drop)


class EmptyCollection(Operator):
    """A collection that is empty: a literal of data (``(...)`` → ``()``), or a list
    argument (``prefix=prefixes`` → ``prefix=[]``)."""

    name = "empty-collection"
    summary = "a list, tuple or dict (literal or list argument) made empty"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.List | ast.Tuple) and FirstOnly._literal_applies(node, where):
            empty: ast.expr = ast.List([], ast.Load())
            if isinstance(node, ast.Tuple):
                empty = ast.Tuple([], ast.Load())
            yield Edit("emptied", _becomes(empty))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            holder = where.parent
            if not isinstance(holder, ast.Call | ast.keyword):
                return
            annotation = where.annotation_of(node.id)
            if annotation is not None and FirstOnly._SEQUENCE.match(annotation):
                yield Edit(f"{node.id} → []", _becomes(ast.List([], ast.Load())))


class MoveExecute(Operator):
    """A pipeline's ``execute()`` moved into the loop that fills it (one round trip per
    command) or out of it (one huge round trip)."""

    name = "move-execute"
    summary = "a pipeline's execute() moved into its loop, or out of it"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        for field, statements in _statement_lists(node):
            for index, statement in enumerate(statements):
                if isinstance(statement, ast.For | ast.While):
                    yield from self._out_of(statement, field, index)
                if _is_execute(statement):
                    yield from self._into(statements, field, index)

    def _out_of(self, loop: ast.For | ast.While, field: str, index: int) -> Iterator[Edit]:
        for inner in _executes_in(loop.body, ()):

            def move_out(
                target: ast.AST, inner: tuple[int, ...] = inner, field: str = field
            ) -> Replacement:
                statements = getattr(target, field)
                moved = _pop_nested(statements[index].body, inner)
                statements.insert(index + 1, moved)
                return target

            statement = _nested(loop.body, inner)
            yield Edit(
                f"{_short(statement, 30)} moved out of the loop (after it)",
                move_out,
                anchor=f"{_src(loop)}\n{inner}",
                line=statement.lineno,
            )

    def _into(self, statements: list[ast.stmt], field: str, index: int) -> Iterator[Edit]:
        execute = statements[index]
        assert isinstance(execute, ast.Expr)
        receiver = _src(execute.value.func.value)  # type: ignore[attr-defined] # _is_execute checked
        for before in range(index - 1, -1, -1):
            loop = statements[before]
            if not isinstance(loop, ast.For | ast.While):
                continue
            if f"{receiver}." not in _src(loop):
                return  # the nearest loop does not use this pipeline

            def move_in(target: ast.AST, before: int = before, field: str = field) -> Replacement:
                body = getattr(target, field)
                moved = body.pop(index)
                body[before].body.append(moved)
                return target

            yield Edit(
                f"{_short(execute, 30)} moved into the loop above it",
                move_in,
                anchor=f"{_src(loop)}\n{_src(execute)}",
                line=execute.lineno,
            )
            return


def _is_execute(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and _method(statement.value) == "execute"
        and not statement.value.args  # type: ignore[attr-defined] # a Call: _method checked
    )


def _executes_in(statements: list[ast.stmt], prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Positions of ``X.execute()`` statements in a loop body, through ``if`` blocks (but not
    into nested loops or functions): index paths through ``body`` lists."""
    for index, statement in enumerate(statements):
        if _is_execute(statement):
            yield (*prefix, index)
        elif isinstance(statement, ast.If | ast.With | ast.Try):
            yield from _executes_in(statement.body, (*prefix, index))


def _nested(statements: list[ast.stmt], position: tuple[int, ...]) -> ast.stmt:
    statement = statements[position[0]]
    for index in position[1:]:
        statement = statement.body[index]  # type: ignore[attr-defined] # an If/With/Try: _executes_in
    return statement


def _pop_nested(statements: list[ast.stmt], position: tuple[int, ...]) -> ast.stmt:
    holder = statements
    for index in position[:-1]:
        holder = holder[index].body  # type: ignore[attr-defined] # an If/With/Try: _executes_in
    moved = holder.pop(position[-1])
    if not holder:
        holder.append(ast.Pass())
    return moved


class GlobPrefix(Operator):
    """``prefix=prefixes`` → ``prefix=[p + "*" for p in prefixes]``: tracking prefixes are
    plain key beginnings, not glob patterns as in KEYS or SCAN ``MATCH``."""

    name = "glob-prefix"
    summary = "a glob '*' added to tracking prefixes (they are not patterns)"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if _method(node) != "client_tracking_on":
            return
        assert isinstance(node, ast.Call)
        for index, keyword in enumerate(node.keywords):
            if keyword.arg not in {"prefix", "prefixes"}:
                continue

            def globbed(target: ast.AST, index: int = index) -> Replacement:
                assert isinstance(target, ast.Call)
                keyword = target.keywords[index]
                star = ast.BinOp(ast.Name("_prefix", ast.Load()), ast.Add(), ast.Constant("*"))
                loop = ast.comprehension(
                    target=ast.Name("_prefix", ast.Store()), iter=keyword.value, ifs=[], is_async=0
                )
                keyword.value = ast.ListComp(elt=star, generators=[loop])
                return target

            yield Edit(f"{keyword.arg}=... → each prefix + '*'", globbed)


class DeleteToNoop(Operator):
    """``client.delete(key)`` / ``client.unlink(key)`` → ``0``: the stale copy stays."""

    name = "delete-noop"
    summary = "a DEL or UNLINK that deletes nothing"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        method = _method(node)
        if method in {"delete", "unlink"}:
            yield Edit(f"{method}(...) → nothing deleted (0)", _becomes(ast.Constant(0)))


class UnlinkToDelete(Operator):
    """``unlink`` → ``delete``: the memory is freed on the main thread, blocking it."""

    name = "unlink-to-delete"
    summary = "UNLINK replaced by DEL"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if _method(node) == "unlink":

            def rename(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute)
                target.func.attr = "delete"
                return target

            yield Edit("unlink(...) → delete(...)", rename)


class OneByOne(Operator):
    """``mget(keys)`` → ``[get(k) for k in keys]``: a round trip per key."""

    name = "one-by-one"
    summary = "MGET/MSET replaced by one GET/SET per key"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        method = _method(node)
        if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
            return
        if method == "mget":

            def loop(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Call)
                get = _receiver_call(target, "get", [ast.Name("_key", ast.Load())])
                return ast.ListComp(
                    elt=get,
                    generators=[
                        ast.comprehension(
                            target=ast.Name("_key", ast.Store()),
                            iter=target.args[0],
                            ifs=[],
                            is_async=0,
                        )
                    ],
                )

            yield Edit("mget(keys) → [get(key) for key in keys]", loop)
        elif method == "mset":

            def loop_set(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Call)
                pairs = ast.Call(
                    func=ast.Attribute(value=target.args[0], attr="items", ctx=ast.Load()),
                    args=[],
                    keywords=[],
                )
                names = [ast.Name("_key", ast.Load()), ast.Name("_value", ast.Load())]
                each = _receiver_call(target, "set", names)
                comprehension = ast.ListComp(
                    elt=each,
                    generators=[
                        ast.comprehension(
                            target=ast.Tuple(
                                [ast.Name("_key", ast.Store()), ast.Name("_value", ast.Store())],
                                ast.Store(),
                            ),
                            iter=pairs,
                            ifs=[],
                            is_async=0,
                        )
                    ],
                )
                return ast.Call(ast.Name("all", ast.Load()), [comprehension], [])

            yield Edit("mset(mapping) → a set(key, value) per item", loop_set)


#: Eviction policies and the neighbours a learner confuses them with (scope, algorithm).
_POLICY_NEIGHBOURS = {
    "allkeys-lru": ("allkeys-lfu", "volatile-lru"),
    "allkeys-lfu": ("allkeys-lru", "volatile-lfu"),
    "volatile-lru": ("volatile-lfu", "allkeys-lru"),
    "volatile-lfu": ("volatile-lru", "allkeys-lfu"),
    "volatile-ttl": ("volatile-lru", "allkeys-lru"),
    "allkeys-random": ("volatile-random", "allkeys-lru"),
    "volatile-random": ("allkeys-random", "volatile-lru"),
    "noeviction": ("allkeys-lru",),
}
_FLAGS = {"yes": ("no",), "no": ("yes",)}


class ConfigValue(Operator):
    """A server setting's value confused: ``"yes"`` ↔ ``"no"``, an eviction policy with its
    neighbour (``allkeys-lru`` → ``allkeys-lfu`` or ``volatile-lru``)."""

    name = "config-value"
    summary = "a setting's value confused: yes/no, an eviction policy with its neighbour"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return
        if isinstance(where.parent, ast.Expr):  # a docstring
            return
        for other in _POLICY_NEIGHBOURS.get(node.value, _FLAGS.get(node.value, ())):
            yield Edit(f"{node.value!r} → {other!r}", _becomes(ast.Constant(other)))


# -- generic operators (after mutmut, cosmic-ray) ---------------------------------------
class Number(Operator):
    """A numeric constant changed: 0 → 1; small n → n+1 and 0; large n → n*10, n/10 and 0;
    negative n → n+1, 0 and -n. ``protocol=3`` → ``protocol=2`` (RESP2)."""

    name = "number"
    summary = "a numeric constant changed (n+1, 0, *10, /10, -n; protocol 3 → 2)"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        value: int | float
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and _is_number(node.operand)
        ):
            value = -node.operand.value  # type: ignore[attr-defined] # _is_number checked
        elif _is_number(node) and not (
            isinstance(where.parent, ast.UnaryOp) and isinstance(where.parent.op, ast.USub)
        ):
            value = node.value  # type: ignore[attr-defined] # _is_number checked
        else:
            return
        for other in self.variants(value, where):
            yield Edit(f"{value!r} → {other!r}", _becomes(ast.Constant(other)))

    @staticmethod
    def variants(value: int | float, where: Where) -> list[int | float]:
        if isinstance(where.parent, ast.keyword) and where.parent.arg == "protocol":
            return [2] if value == 3 else [3]
        if value == 0:
            found: list[int | float] = [1]
        elif value < 0:
            found = [value + 1, 0, -value]
        elif value < 10:
            found = [value + 1, 0]
        else:
            found = [0, value * 10, value // 10 if isinstance(value, int) else value / 10]
        unique: list[int | float] = []
        for candidate in found:
            if candidate != value and candidate not in unique:
                unique.append(candidate)
        return unique


_NEGATED: dict[type[ast.cmpop], Callable[[], ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_SYMBOL = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.GtE: ">=",
    ast.Gt: ">",
    ast.LtE: "<=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


class NegateComparison(Operator):
    """``==`` → ``!=``, ``<`` → ``>=``, ``is`` → ``is not``, ``in`` → ``not in``."""

    name = "negate-comparison"
    summary = "a comparison negated"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not isinstance(node, ast.Compare):
            return
        for index, op in enumerate(node.ops):
            negated = _NEGATED[type(op)]

            def change(
                target: ast.AST, index: int = index, negated: Callable[[], ast.cmpop] = negated
            ) -> Replacement:
                assert isinstance(target, ast.Compare)
                target.ops[index] = negated()
                return target

            yield Edit(f"{_SYMBOL[type(op)]} → {_SYMBOL[type(negated())]}", change)


class RemoveNot(Operator):
    """``not x`` → ``x``."""

    name = "remove-not"
    summary = "a `not` removed"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):

            def change(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.UnaryOp)
                return target.operand

            yield Edit("not x → x", change)


class AndOr(Operator):
    """``and`` ↔ ``or``."""

    name = "and-or"
    summary = "`and` and `or` swapped"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.BoolOp):
            was_and = isinstance(node.op, ast.And)

            def change(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.BoolOp)
                target.op = ast.Or() if was_and else ast.And()
                return target

            yield Edit("and → or" if was_and else "or → and", change)


class ReturnNone(Operator):
    """``return x`` → ``return None``."""

    name = "return-none"
    summary = "`return X` → `return None`"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.Return) and node.value is not None:
            if isinstance(node.value, ast.Constant) and node.value.value is None:
                return

            def change(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Return)
                target.value = ast.Constant(None)
                return target

            yield Edit(f"return {_short(node.value, 24)} → return None", change)


class DropJson(Operator):
    """``json.dumps(x)`` → ``x``, ``json.loads(s)`` → ``s``: a dict sent as is, or a JSON
    string returned as is."""

    name = "drop-json"
    summary = "json.dumps / json.loads removed"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return
        func = node.func
        if (
            isinstance(func.value, ast.Name)
            and func.value.id == "json"
            and func.attr in {"dumps", "loads"}
            and node.args
        ):

            def change(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.Call)
                return target.args[0]

            yield Edit(f"json.{func.attr}(x) → x", change)


class DropStatement(Operator):
    """A statement removed (``pass`` where a block would be empty). At module level only
    assignments (constants), never imports or definitions."""

    name = "drop-statement"
    summary = "a statement removed"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not isinstance(node, ast.stmt) or where.slot[1] is None:
            return
        if _is_docstring(node) or isinstance(node, ast.Pass | ast.Global | ast.Nonlocal):
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            return
        if isinstance(where.parent, ast.Module) and not isinstance(
            node, ast.Assign | ast.AnnAssign | ast.AugAssign
        ):
            return
        yield Edit(f"removed: {_short(node, 48)}", lambda _: None)


class SwapArguments(Operator):
    """Two neighbouring positional arguments of a method call swapped:
    ``setex(key, seconds, value)`` → ``setex(key, value, seconds)``, ``xack(queue, group, id)``
    → ``xack(group, queue, id)``."""

    name = "swap-arguments"
    summary = "two neighbouring positional arguments of a method call swapped"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if _method(node) is None:
            return
        assert isinstance(node, ast.Call)
        for index in range(len(node.args) - 1):
            first, second = node.args[index], node.args[index + 1]
            if isinstance(first, ast.Starred) or isinstance(second, ast.Starred):
                continue
            if _src(first) == _src(second):
                continue

            def swap(target: ast.AST, index: int = index) -> Replacement:
                assert isinstance(target, ast.Call)
                args = target.args
                args[index], args[index + 1] = args[index + 1], args[index]
                return target

            yield Edit(f"arguments swapped: {_short(first, 24)} ⇄ {_short(second, 24)}", swap)


class SwapStatements(Operator):
    """Two adjacent statements of a function swapped (order matters: database first, then
    the cache; read the clock, then do the work)."""

    name = "swap-statements"
    summary = "two adjacent statements swapped"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.Module) or not _in_function(where):
            return
        for field, statements in _statement_lists(node):
            for index in range(len(statements) - 1):
                first, second = statements[index], statements[index + 1]
                if _is_docstring(first) or _src(first) == _src(second):
                    continue

                def swap(target: ast.AST, field: str = field, index: int = index) -> Replacement:
                    body = getattr(target, field)
                    body[index], body[index + 1] = body[index + 1], body[index]
                    return target

                yield Edit(
                    f"swapped: {_short(first, 48)} ⇄ {_short(second, 48)}",
                    swap,
                    anchor=f"{_src(first)}\n{_src(second)}",
                    line=first.lineno,
                )


# -- learner-error operators: the slips people make, beside the classic ones -------------
_BOUNDARY: dict[type[ast.cmpop], tuple[Callable[[], ast.cmpop], str, str]] = {
    ast.Lt: (ast.LtE, "<", "<="),
    ast.LtE: (ast.Lt, "<=", "<"),
    ast.Gt: (ast.GtE, ">", ">="),
    ast.GtE: (ast.Gt, ">=", ">"),
}


class Boundary(Operator):
    """``<`` ↔ ``<=``, ``>`` ↔ ``>=``: an off-by-one at a boundary (a batch, a version)."""

    name = "boundary"
    summary = "a boundary moved: < ↔ <=, > ↔ >="

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not isinstance(node, ast.Compare):
            return
        for index, op in enumerate(node.ops):
            if type(op) not in _BOUNDARY:
                continue
            other, before, after = _BOUNDARY[type(op)]

            def change(
                target: ast.AST, index: int = index, other: Callable[[], ast.cmpop] = other
            ) -> Replacement:
                assert isinstance(target, ast.Compare)
                target.ops[index] = other()
                return target

            yield Edit(f"{before} → {after}", change)


_ARITHMETIC: dict[type[ast.operator], tuple[Callable[[], ast.operator], str, str]] = {
    ast.Add: (ast.Sub, "+", "-"),
    ast.Sub: (ast.Add, "-", "+"),
    ast.Mult: (ast.Div, "*", "/"),
    ast.Div: (ast.Mult, "/", "*"),
    ast.FloorDiv: (ast.Mult, "//", "*"),
}


class Arithmetic(Operator):
    """``+`` ↔ ``-``, ``*`` ↔ ``/``: the difference taken the wrong way round, a unit
    converted the wrong way."""

    name = "arithmetic"
    summary = "arithmetic swapped: + ↔ -, * ↔ /"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not isinstance(node, ast.BinOp) or type(node.op) not in _ARITHMETIC:
            return
        if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            return  # string concatenation or formatting, not arithmetic
        other, before, after = _ARITHMETIC[type(node.op)]

        def change(target: ast.AST, other: Callable[[], ast.operator] = other) -> Replacement:
            assert isinstance(target, ast.BinOp)
            target.op = other()
            return target

        yield Edit(f"{before} → {after}", change)


def _number_value(node: ast.AST, where: Where) -> int | float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_number(node.operand):
        return -node.operand.value  # type: ignore[attr-defined, no-any-return] # _is_number checked
    if _is_number(node) and not (
        isinstance(where.parent, ast.UnaryOp) and isinstance(where.parent.op, ast.USub)
    ):
        return node.value  # type: ignore[attr-defined, no-any-return] # _is_number checked
    return None


class OffByOne(Operator):
    """A constant one off: ``n`` → ``n - 1`` and ``n + 1`` (``number`` covers the others)."""

    name = "off-by-one"
    summary = "a numeric constant one off: n - 1, n + 1"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        value = _number_value(node, where)
        if value is None or (
            isinstance(where.parent, ast.keyword) and where.parent.arg == "protocol"
        ):
            return
        for other in (value - 1, value + 1):
            yield Edit(f"{value!r} → {other!r}", _becomes(ast.Constant(other)))


class UnitSlip(Operator):
    """A constant in the wrong unit: ``n`` → ``n * 1000`` and ``n / 1000`` (seconds and
    milliseconds, milliseconds and microseconds, bytes and kilobytes)."""

    name = "unit-slip"
    summary = "a constant in the wrong unit: * 1000, / 1000"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        value = _number_value(node, where)
        if value is None or value == 0:
            return
        if isinstance(where.parent, ast.keyword) and where.parent.arg == "protocol":
            return
        smaller = value // 1000 if isinstance(value, int) and value % 1000 == 0 else value / 1000
        for other in (value * 1000, smaller):
            yield Edit(f"{value!r} → {other!r}", _becomes(ast.Constant(other)))


#: Modules whose calls do not fail the way a server or a database does.
_PURE_MODULES = frozenset({"time", "json", "random", "secrets", "math", "itertools", "os"})


def _side_effect_call(statement: ast.stmt) -> bool:
    """A statement that sends something to Valkey or the database: ``client.delete(key)``,
    ``record = db.update_product(...)`` (not ``time.perf_counter()``, not ``json.dumps``)."""
    value = statement.value if isinstance(statement, ast.Expr | ast.Assign) else None
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
        return False
    receiver = value.func.value
    return not (isinstance(receiver, ast.Name) and receiver.id in _PURE_MODULES)


class SwallowException(Operator):
    """A call wrapped in ``try: ... except Exception: pass``: the failure of a database
    write or a Valkey command hidden from the caller."""

    name = "swallow-exception"
    summary = "a call wrapped in try/except Exception: pass"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.stmt) and _in_function(where) and where.slot[1] is not None):
            return
        if not _side_effect_call(node):
            return

        def wrap(target: ast.AST) -> Replacement:
            assert isinstance(target, ast.stmt)
            handler = ast.ExceptHandler(
                type=ast.Name(id="Exception", ctx=ast.Load()), name=None, body=[ast.Pass()]
            )
            return [ast.Try(body=[target], handlers=[handler], orelse=[], finalbody=[])]

        yield Edit(f"try: {_short(node, 40)} except Exception: pass", wrap)


class GuardOnArgument(Operator):
    """A call made only for some arguments: ``if "price" in changes:`` before the
    invalidation, ``if product_id.isascii():`` (unicode ids forgotten), ``if len(ids) <= 1000:``
    (a list within one batch).

    The field a dict is guarded on comes from the code being mutated, never from one
    course's vocabulary: a string key the module uses with that argument (``changes["price"]``,
    ``changes.get("price")``, ``"price" in changes``), else a string key it uses with any
    dict, else its first identifier-like string constant; with none, no dict guard."""

    name = "guard-on-argument"
    summary = "a statement guarded by a condition on an argument (if user.isascii(): ...)"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.Expr) and _in_function(where) and where.slot[1] is not None):
            return
        if not _side_effect_call(node):
            return
        conditions = [
            condition
            for name, annotation in where.params
            for condition in (
                self._condition(name, annotation, where),
                self._more(name, annotation),
            )
            if condition is not None
        ]
        for condition in conditions:
            test = ast.parse(condition, mode="eval").body

            def guard(target: ast.AST, test: ast.expr = test) -> Replacement:
                assert isinstance(target, ast.stmt)
                return [ast.If(test=copy.deepcopy(test), body=[target], orelse=[])]

            yield Edit(f"if {condition}: {_short(node, 32)}", guard)

    @staticmethod
    def _condition(name: str, annotation: str, where: Where) -> str | None:
        if annotation.startswith("dict"):
            field_name = _dict_field(where.tree, name) if where.tree is not None else None
            return None if field_name is None else f"{field_name!r} in {name}"
        if annotation == "str":
            return f"{name}.isascii()"
        if annotation.startswith("list"):
            return f"len({name}) <= 1000"
        return None

    @staticmethod
    def _more(name: str, annotation: str) -> str | None:
        """A second condition: a list handled only when it holds one item."""
        return f"len({name}) < 2" if annotation.startswith("list") else None


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _dict_field(tree: ast.AST, argument: str) -> str | None:
    """The field a guard on the dict ``argument`` tests, read from ``tree`` (see
    :class:`GuardOnArgument`), or None when the code names no field."""
    with_argument: list[tuple[int, int, str]] = []
    with_any: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        for holder, key in _keyed(node):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if not _IDENTIFIER.match(key.value):
                continue
            place = (key.lineno, key.col_offset, key.value)
            with_any.append(place)
            if isinstance(holder, ast.Name) and holder.id == argument:
                with_argument.append(place)
    if with_argument or with_any:
        return min(with_argument or with_any)[2]
    docstrings = {
        id(body[0].value)
        for body in (getattr(node, "body", None) for node in ast.walk(tree))
        if isinstance(body, list)
        and body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    }
    constants = sorted(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and _IDENTIFIER.match(node.value)
        ),
        key=lambda node: (node.lineno, node.col_offset),
    )
    return str(constants[0].value) if constants else None


def _keyed(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(the dict, the key) of ``d["k"]``, ``d.get("k")``/``d.pop("k")``/``d.setdefault("k")``
    and ``"k" in d``."""
    if isinstance(node, ast.Subscript):
        yield node.value, node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"get", "pop", "setdefault"}
        and node.args
    ):
        yield node.func.value, node.args[0]
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        # ``"x" in d`` for a name only: ``"BUSYGROUP" in str(error)`` searches a text.
        searched = node.comparators[0]
        if isinstance(node.ops[0], ast.In | ast.NotIn) and isinstance(searched, ast.Name):
            yield searched, node.left
    elif isinstance(node, ast.Dict):
        for key in node.keys:
            if key is not None:
                yield node, key


class SingleTry(Operator):
    """A retry or polling loop cut to one pass: ``while ...:`` (or ``for``) runs its body
    once (a ``break`` at its end), and a ``continue`` that retries after an error becomes
    ``raise``."""

    name = "single-try"
    summary = "a retry loop cut to one try"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if isinstance(node, ast.While | ast.For) and _in_function(where):

            def once(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.While | ast.For)
                target.body.append(ast.Break())
                return target

            head = (
                f"while {_short(node.test, 24)}"
                if isinstance(node, ast.While)
                else f"for {_short(node.target, 12)} in {_short(node.iter, 20)}"
            )
            yield Edit(f"{head}: one pass only", once)
        if isinstance(node, ast.ExceptHandler) and any(
            isinstance(statement, ast.Continue) for statement in node.body
        ):

            def give_up(target: ast.AST) -> Replacement:
                assert isinstance(target, ast.ExceptHandler)
                target.body = [
                    ast.Raise() if isinstance(statement, ast.Continue) else statement
                    for statement in target.body
                ]
                return target

            yield Edit("except ...: continue → raise (no retry)", give_up)


class DropPassedSetting(Operator):
    """One setting dropped from a ``**kwargs`` pass-through: ``Valkey(**connection_kwargs)``
    → ``Valkey(**{k: v for k, v in connection_kwargs.items() if k != "password"})``."""

    name = "drop-passed-setting"
    summary = "a keyword argument dropped from a **kwargs pass-through (password, host, port)"

    _SETTINGS = ("password", "host", "port")

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not isinstance(node, ast.Call):
            return
        for index, keyword in enumerate(node.keywords):
            if keyword.arg is not None or not isinstance(keyword.value, ast.Name):
                continue
            name = keyword.value.id
            for setting in self._SETTINGS:
                text = f"{{k: v for k, v in {name}.items() if k != {setting!r}}}"
                value = ast.parse(text, mode="eval").body

                def drop(
                    target: ast.AST, index: int = index, value: ast.expr = value
                ) -> Replacement:
                    assert isinstance(target, ast.Call)
                    target.keywords[index] = ast.keyword(arg=None, value=copy.deepcopy(value))
                    return target

                yield Edit(f"**{name} without {setting}", drop)


_LUA_OPERATORS = {
    " == ": (" ~= ",),
    " ~= ": (" == ",),
    " >= ": (" > ", " < "),
    " <= ": (" < ", " > "),
    " > ": (" >= ", " <= "),
    " < ": (" <= ", " >= "),
    " + ": (" - ",),
    " - ": (" + ",),
    " and ": (" or ",),
    " or ": (" and ",),
}
_LUA_TOKEN = re.compile("|".join(re.escape(token) for token in _LUA_OPERATORS))


class LuaOperator(Operator):
    """A comparison or arithmetic inside a Lua script string changed: ``==`` → ``~=``,
    ``>=`` → ``>`` or ``<``, ``+`` → ``-``, ``and`` → ``or`` (a script the server runs as one
    step is still code that can be wrong)."""

    name = "lua-operator"
    summary = "a comparison or arithmetic inside a Lua script string changed"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return
        script = node.value
        if "redis.call" not in script and "server.call" not in script:
            return
        for match in _LUA_TOKEN.finditer(script):
            for other in _LUA_OPERATORS[match.group()]:
                changed = script[: match.start()] + other + script[match.end() :]
                line = script[: match.start()].count("\n") + 1
                yield Edit(
                    f"Lua line {line}: {match.group().strip()} → {other.strip()}",
                    _becomes(ast.Constant(changed)),
                )


class FlipBool(Operator):
    """A keyword flag flipped: ``cache_enabled=True`` → ``False``, ``transaction=False`` →
    ``True``, ``mkstream=True`` → ``False`` (the flag read the wrong way round)."""

    name = "flip-bool"
    summary = "a keyword flag flipped: True ↔ False"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(where.parent, ast.keyword) and isinstance(node, ast.Constant)):
            return
        if not isinstance(node.value, bool):
            return
        other = not node.value
        yield Edit(
            f"{where.parent.arg}={node.value} → {where.parent.arg}={other}",
            _becomes(ast.Constant(other)),
        )


#: Configuration names that are easy to confuse with one another.
_SETTING_NEIGHBOURS = {
    "lazyfree-lazy-eviction": ("lazyfree-lazy-expire", "lazyfree-lazy-server-del"),
    "lazyfree-lazy-expire": ("lazyfree-lazy-eviction", "lazyfree-lazy-server-del"),
    "lazyfree-lazy-server-del": ("lazyfree-lazy-user-del", "lazyfree-lazy-eviction"),
    "lazyfree-lazy-user-del": ("lazyfree-lazy-server-del", "lazyfree-lazy-user-flush"),
    "lazyfree-lazy-user-flush": ("lazyfree-lazy-user-del", "lazyfree-lazy-server-del"),
    "maxmemory": ("maxmemory-samples",),
    "maxmemory-policy": ("maxmemory-samples",),
    "maxmemory-samples": ("maxmemory-eviction-tenacity",),
}


class SettingName(Operator):
    """A configuration setting confused with its neighbour: ``lazyfree-lazy-user-del`` →
    ``lazyfree-lazy-server-del``, ``maxmemory-samples`` → ``maxmemory-eviction-tenacity``;
    or spelt like a Python name (``lazyfree_lazy_user_del``)."""

    name = "setting-name"
    summary = "a configuration setting confused with its neighbour"

    def edits(self, node: ast.AST, where: Where) -> Iterator[Edit]:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return
        neighbours = _SETTING_NEIGHBOURS.get(node.value, ())
        for other in neighbours:
            yield Edit(f"{node.value!r} → {other!r}", _becomes(ast.Constant(other)))
        if neighbours and "-" in node.value:  # spelt like a Python name
            other = node.value.replace("-", "_")
            yield Edit(f"{node.value!r} → {other!r}", _becomes(ast.Constant(other)))


#: Every operator, domain operators first.
OPERATORS: tuple[Operator, ...] = (
    DropKeyword(),
    ReadThenWrite(),
    AddCondition(),
    SetThenExpire(),
    TimeUnit(),
    FirstOnly(),
    DropElement(),
    EmptyCollection(),
    MoveExecute(),
    GlobPrefix(),
    DeleteToNoop(),
    UnlinkToDelete(),
    OneByOne(),
    ConfigValue(),
    DropJson(),
    Number(),
    NegateComparison(),
    RemoveNot(),
    AndOr(),
    ReturnNone(),
    DropStatement(),
    SwapStatements(),
    SwapArguments(),
    Boundary(),
    Arithmetic(),
    OffByOne(),
    UnitSlip(),
    SwallowException(),
    GuardOnArgument(),
    SingleTry(),
    DropPassedSetting(),
    LuaOperator(),
    SettingName(),
    FlipBool(),
)
OPERATOR_NAMES = tuple(operator.name for operator in OPERATORS)


# -- the generator ----------------------------------------------------------------------
_SKIPPED_FIELDS = frozenset({"annotation", "returns", "type_comment", "decorator_list"})


def _walk(
    node: ast.AST,
    path: NodePath = (),
    function: str = MODULE_LEVEL,
    parent: ast.AST | None = None,
    params: tuple[tuple[str, str], ...] = (),
    tree: ast.AST | None = None,
) -> Iterator[tuple[ast.AST, Where]]:
    tree = node if tree is None else tree
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        function = node.name if function == MODULE_LEVEL else f"{function}.{node.name}"
        if not isinstance(node, ast.ClassDef):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            params = tuple((a.arg, _src(a.annotation)) for a in every if a.annotation)
    elif function == MODULE_LEVEL and isinstance(node, ast.Assign | ast.AnnAssign):
        # A module-level constant is named like a function: ``config-value:POLICY_X:1a2b3c``.
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            function = targets[0].id
    yield node, Where(path, function, parent, params, tree)
    if isinstance(node, ast.Import | ast.ImportFrom):
        return
    for name, value in ast.iter_fields(node):
        if name in _SKIPPED_FIELDS:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk(item, (*path, (name, index)), function, node, params, tree)
        elif isinstance(value, ast.AST):
            yield from _walk(value, (*path, (name, None)), function, node, params, tree)


def _locate(tree: ast.AST, path: NodePath) -> ast.AST:
    node = tree
    for name, index in path:
        value = getattr(node, name)
        node = value[index] if index is not None else value
    return node


def _replace(tree: ast.AST, path: NodePath, replacement: Replacement) -> None:
    if not path:
        return  # the module itself was changed in place
    holder = _locate(tree, path[:-1])
    name, index = path[-1]
    if index is None:
        assert isinstance(replacement, ast.AST)
        setattr(holder, name, replacement)
        return
    items = getattr(holder, name)
    if replacement is None:
        del items[index]
    elif isinstance(replacement, list):
        items[index : index + 1] = replacement
    else:
        items[index] = replacement
    if name == "body" and not items:
        items.append(ast.Pass())


def _mutant_id(operator: str, function: str, anchor: str, variant: str, seen: int) -> str:
    text = "\0".join((operator, function, anchor, variant, str(seen)))
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:6]
    return f"{operator}:{function}:{digest}"


def _variant(replacement: Replacement) -> str:
    """The code an edit put in place of the node: what tells edits of one node apart."""
    if replacement is None:
        return "<removed>"
    if isinstance(replacement, list):
        return "\n".join(_src(statement) for statement in replacement)
    return _src(replacement)


def generate(source: str, operators: Iterable[Operator] = OPERATORS) -> Generated:
    """Every mutant of ``source`` that the operators give, in a stable order.

    One edit per mutant. Mutants that do not compile, equal the original or repeat an
    earlier mutant's code are discarded and counted.

    Raises:
        SyntaxError: ``source`` itself does not parse.
    """
    tree = ast.parse(source)
    original = ast.unparse(tree)
    nodes = list(_walk(tree))
    mutants: list[Mutant] = []
    seen_sources = {original}
    seen_ids: dict[str, int] = {}
    discarded = 0
    for operator in operators:
        for node, where in nodes:
            for edit in operator.edits(node, where):
                mutated = copy.deepcopy(tree)
                replacement = edit.change(_locate(mutated, where.path))
                # The id names the node by its code and the change by the code it became
                # (an edit of a statement list names the statements it moves instead).
                if edit.anchor is not None:
                    anchor, variant = edit.anchor, ""
                else:
                    anchor, variant = _src(node), _variant(replacement)
                key = "\0".join((operator.name, where.function, anchor, variant))
                occurrence = seen_ids.get(key, 0)
                seen_ids[key] = occurrence + 1
                _replace(mutated, where.path, replacement)
                ast.fix_missing_locations(mutated)
                try:
                    text = ast.unparse(mutated)
                    compile(text, "<mutant>", "exec")
                except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError):
                    discarded += 1  # not a program: nothing to learn from it
                    continue
                if text in seen_sources:
                    discarded += 1
                    continue
                seen_sources.add(text)
                line = edit.line if edit.line is not None else getattr(node, "lineno", 0)
                mutants.append(
                    Mutant(
                        id=_mutant_id(operator.name, where.function, anchor, variant, occurrence),
                        operator=operator.name,
                        function=where.function,
                        line=line,
                        description=edit.description,
                        source=text + "\n",
                    )
                )
    return Generated(tuple(mutants), discarded)
