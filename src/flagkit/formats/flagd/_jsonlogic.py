"""Compile flagd's JSON Logic targeting rules into plain Python closures.

A rule is compiled once, when a flag document is loaded; evaluating it calls a
tree of closures and never walks the JSON again. Literal sub-trees of pure
operators are folded to constants at compile time.

Semantics follow the JSON Logic reference implementation (json-logic-js,
https://jsonlogic.com/operations.html; the value rules are in ``_jsvalues``):
JavaScript truthiness (plus ``[]`` is falsy), loose ``==`` with JavaScript
type coercion, strict ``===``, ``+`` and ``*`` through ``parseFloat``, ``cat``
through ``String()``. On top of that come flagd's custom operators
(``_operators``, https://flagd.dev/reference/custom-operations/):
``fractional``, ``sem_ver``, ``starts_with``, ``ends_with``, and the
``$ref``-erences to shared ``$evaluators``, resolved (and checked for cycles)
at compile time.

Entry point: :func:`compile_logic`. It raises
:class:`~flagkit._errors.DefinitionError` listing every
problem in the rule (unknown operator, bad arity, unknown or cyclic ``$ref``);
the :class:`CompiledLogic` it returns never raises when called and reports a
runtime failure as an :class:`EvaluationFailure` value instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from flagkit._core.values import PLAIN_TYPES, plain
from flagkit._errors import Problem, describe
from flagkit._types import Clock
from flagkit.formats._problems import Path, definition_error
from flagkit.formats.flagd._jsvalues import (
    MAX_EXACT_INTEGER,
    NAN,
    is_array,
    is_nan,
    js_divide,
    js_less,
    js_number,
    js_remainder,
    js_string,
    js_subtract,
    lookup,
    loose_equals,
    missing_keys,
    parse_float,
    strict_equals,
    to_integer,
    truthy,
)
from flagkit.formats.flagd._operators import (
    ends_with,
    parse_buckets,
    pick_bucket,
    sem_ver,
    starts_with,
)

__all__ = ["OPERATORS", "CompiledLogic", "EvaluationFailure", "compile_logic"]

#: A compiled node: takes the current data (the context, or an array element
#: inside ``map``/``filter``/...) and returns a JSON-like value.
Node: TypeAlias = Callable[[Any], Any]

#: Rules nested deeper than this are refused at compile time: real targeting
#: is shallow, and the bound keeps compilation and evaluation off the
#: interpreter's recursion limit for hostile documents.
MAX_DEPTH: Final = 64

_FLAGD_KEY: Final = "$flagd"


@dataclass(frozen=True, slots=True)
class EvaluationFailure:
    """The result of a rule that failed at runtime; evaluation reports ERROR/GENERAL."""

    message: str


class CompiledLogic:
    """A compiled targeting rule: call it with an evaluation context.

    Calling never raises: an exception inside the rule comes back as an
    :class:`EvaluationFailure`. The context is a mapping of attribute names to
    JSON-like values; ``targetingKey`` is one of them. ``$flagd.flagKey`` and
    ``$flagd.timestamp`` are supplied by the rule itself (any ``$flagd`` in
    the context is ignored, as flagd overwrites it).
    """

    __slots__ = ("_clock", "_flag_key", "_needs_flagd", "_node")

    def __init__(self, node: Node, *, flag_key: str, clock: Clock, needs_flagd: bool) -> None:
        self._node = node
        self._flag_key = flag_key
        self._clock = clock
        self._needs_flagd = needs_flagd

    def __call__(self, context: Mapping[str, Any]) -> Any:
        try:
            data: Any = context
            if self._needs_flagd:
                # Only rules that read ``$flagd`` dynamically pay for the copy;
                # static ``$flagd.flagKey`` / ``$flagd.timestamp`` are compiled
                # to a constant and a clock read.
                data = dict(context)
                data[_FLAGD_KEY] = {
                    "flagKey": self._flag_key,
                    "timestamp": int(self._clock()),
                }
            return self._node(data)
        except Exception as exc:  # evaluation never raises (DESIGN invariant 1)
            return EvaluationFailure(describe(exc))


def compile_logic(
    rule: Any,
    *,
    evaluators: Mapping[str, Any] | None = None,
    flag_key: str,
    clock: Clock = time.time,
    location: Path = ("targeting",),
) -> CompiledLogic:
    """Compile a JSON Logic ``rule`` (already parsed from JSON) for ``flag_key``.

    ``evaluators`` is the document's ``$evaluators`` map for ``{"$ref": name}``;
    ``clock`` returns Unix seconds for ``$flagd.timestamp``; ``location`` prefixes
    the path of every reported problem (e.g. ``flags.my-flag.targeting``).
    Raises :class:`DefinitionError` with every problem found.
    """
    compiler = _Compiler(evaluators or {}, flag_key, clock)
    node = compiler.compile(rule, location, depth=0, scoped=False)
    if compiler.problems:
        raise definition_error(compiler.problems)
    return CompiledLogic(
        _as_node(node), flag_key=flag_key, clock=clock, needs_flagd=compiler.needs_flagd
    )


# --------------------------------------------------------------------------
# The compiler.


class _Literal:
    """A compile-time constant, kept apart from closures for constant folding."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_Compiled: TypeAlias = "_Literal | Node"


def _as_node(compiled: _Compiled) -> Node:
    if isinstance(compiled, _Literal):
        value = compiled.value
        return lambda _data: value
    return compiled


#: name -> (minimum args, maximum args or None, pure, builder). A pure
#: operator with all-literal arguments is folded at compile time.
_Builder: TypeAlias = Callable[["_Compiler", list[_Compiled]], _Compiled]


def _values(nodes: list[_Compiled]) -> list[Node]:
    return [_as_node(node) for node in nodes]


def _build_if(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    if not args:
        return _Literal(None)
    nodes = _values(args)
    if len(nodes) == 1:
        return nodes[0]
    if len(nodes) in (2, 3):
        test, then = nodes[0], nodes[1]
        otherwise = nodes[2] if len(nodes) == 3 else _as_node(_Literal(None))
        return lambda d: then(d) if truthy(test(d)) else otherwise(d)
    pairs = [(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
    fallback = nodes[-1] if len(nodes) % 2 else _as_node(_Literal(None))

    def if_chain(data: Any) -> Any:
        for test, then in pairs:
            if truthy(test(data)):
                return then(data)
        return fallback(data)

    return if_chain


def _build_and(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    nodes = _values(args)

    def all_of(data: Any) -> Any:
        value = None
        for node in nodes:
            value = node(data)
            if not truthy(value):
                return value
        return value

    return all_of


def _build_or(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    nodes = _values(args)

    def any_of(data: Any) -> Any:
        value = None
        for node in nodes:
            value = node(data)
            if truthy(value):
                return value
        return value

    return any_of


def _binary(function: Callable[[Any, Any], Any]) -> _Builder:
    def build(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
        left, right = _values(args)
        return lambda d: function(left(d), right(d))

    return build


def _unary(function: Callable[[Any], Any]) -> _Builder:
    def build(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
        (operand,) = _values(args)
        return lambda d: function(operand(d))

    return build


def _variadic(function: Callable[[list[Any]], Any]) -> _Builder:
    def build(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
        nodes = _values(args)
        return lambda d: function([node(d) for node in nodes])

    return build


def _comparison(*, or_equal: bool, flipped: bool) -> _Builder:
    def build(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
        nodes = _values(args)
        if len(nodes) == 3:  # between: a < b < c (a <= b <= c)
            low, mid, high = nodes

            def between(data: Any) -> bool:
                middle = mid(data)
                return js_less(low(data), middle, or_equal=or_equal) and js_less(
                    middle, high(data), or_equal=or_equal
                )

            return between
        left, right = nodes
        if flipped:
            return lambda d: js_less(right(d), left(d), or_equal=or_equal)
        return lambda d: js_less(left(d), right(d), or_equal=or_equal)

    return build


def _js_in(needle: Any, haystack: Any) -> bool:
    needle, haystack = plain(needle), plain(haystack)
    if isinstance(haystack, str):
        return js_string(needle) in haystack
    if is_array(haystack):
        return any(strict_equals(needle, item) for item in haystack)
    return False


def _build_in(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    haystack = args[1]
    if (
        isinstance(haystack, _Literal)
        and is_array(haystack.value)
        and all(isinstance(item, str) for item in haystack.value)
    ):
        # The usual {"in": [{"var": "country"}, ["NL", "BE"]]}: strict equality
        # against strings only ever holds for a string, so one set lookup does.
        members = frozenset(haystack.value)
        needle = _as_node(args[0])
        return lambda d: type(value := plain(needle(d))) is str and value in members
    return _binary(_js_in)(_c, args)


def _substr(values: list[Any]) -> str:
    text = js_string(values[0])
    start = to_integer(values[1])
    if start < 0:
        start = max(len(text) + start, 0)
    if len(values) < 3:
        return text[start:]
    length = to_integer(values[2])
    if length < 0:
        rest = text[start:]
        return rest[: max(len(rest) + length, 0)]
    return text[start : start + length]


def _as_double(number: float | int) -> float | int:
    """Keep integers exact only within a double's exact range, as JavaScript does.

    Unbounded Python ints would let ``*`` inside ``reduce`` over a context
    array grow a number without limit.
    """
    if isinstance(number, int) and abs(number) > MAX_EXACT_INTEGER:
        try:
            return float(number)
        except OverflowError:
            return math.copysign(math.inf, number)
    return number


def _minus(values: list[Any]) -> float | int:
    if len(values) == 1:
        return _as_double(-js_number(values[0]))
    return _as_double(js_subtract(values[0], values[1]))


def _plus(values: list[Any]) -> float | int:
    total: float | int = 0
    for value in values:
        total += parse_float(value)
    return _as_double(total)


def _times(values: list[Any]) -> float | int:
    product: float | int = parse_float(values[0])
    for value in values[1:]:
        product = _as_double(product * parse_float(value))
    return _as_double(product)


def _extreme(pick: Callable[[list[float | int]], float | int], empty: float) -> Callable[..., Any]:
    def extreme(values: list[Any]) -> float | int:
        numbers = [js_number(value) for value in values]
        if not numbers:
            return empty
        if any(is_nan(number) for number in numbers):
            return NAN
        return pick(numbers)

    return extreme


def _merge(values: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for value in values:
        if is_array(value):
            merged.extend(value)
        else:
            merged.append(value)
    return merged


def _missing_some(data: Any, need: Any, keys: Any) -> list[Any]:
    keys = list(keys) if is_array(keys) else [keys]
    absent = missing_keys(data, keys)
    return [] if len(keys) - len(absent) >= js_number(need) else absent


def _build_missing(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    nodes = _values(args)

    def missing(data: Any) -> list[Any]:
        keys = [node(data) for node in nodes]
        if keys and is_array(keys[0]):
            keys = list(keys[0])
        return missing_keys(data, keys)

    return missing


def _build_missing_some(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    need, keys = _values(args)
    return lambda d: _missing_some(d, need(d), keys(d))


def _array_operator(
    apply: Callable[[Node, list[Any] | tuple[Any, ...]], Any], empty: Any
) -> _Builder:
    def build(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
        source, logic = _values(args)

        def over_array(data: Any) -> Any:
            items = source(data)
            return apply(logic, items) if is_array(items) else empty

        return over_array

    return build


def _build_reduce(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    nodes = _values(args)
    source, logic = nodes[0], nodes[1]
    initial = nodes[2] if len(nodes) == 3 else _as_node(_Literal(None))

    def reduce(data: Any) -> Any:
        items = source(data)
        accumulator = initial(data)
        if not is_array(items):
            return accumulator
        for item in items:
            accumulator = logic({"current": item, "accumulator": accumulator})
        return accumulator

    return reduce


class _Compiler:
    """Turns one JSON Logic tree into closures, collecting every problem."""

    def __init__(self, evaluators: Mapping[str, Any], flag_key: str, clock: Clock) -> None:
        self.evaluators = evaluators
        self.flag_key = flag_key
        self.clock = clock
        self.problems: list[Problem] = []
        self.needs_flagd = False
        self._ref_stack: list[str] = []

    def problem(self, location: Path, message: str) -> _Literal:
        self.problems.append(Problem(location, message))
        return _Literal(None)

    def compile(self, rule: Any, location: Path, *, depth: int, scoped: bool) -> _Compiled:
        if depth > MAX_DEPTH:
            return self.problem(location, f"rule is nested deeper than {MAX_DEPTH} levels")
        if is_array(rule):
            items = [
                self.compile(item, (*location, i), depth=depth + 1, scoped=scoped)
                for i, item in enumerate(rule)
            ]
            if all(isinstance(item, _Literal) for item in items):
                return _Literal([item.value for item in items])  # type: ignore[union-attr]
            nodes = _values(items)
            return lambda d: [node(d) for node in nodes]
        if not isinstance(rule, Mapping):
            if isinstance(rule, float) and not math.isfinite(rule):
                return self.problem(location, "numbers must be finite")
            if rule is None or isinstance(rule, (str, bool, int, float)):
                return _Literal(rule)
            return self.problem(location, f"unsupported value of type {type(rule).__name__}")
        if len(rule) != 1:
            if not rule:
                return _Literal({})
            keys = ", ".join(sorted(map(str, rule)))
            return self.problem(location, f"a rule object needs exactly one operator, got {keys}")
        ((operator, raw_args),) = rule.items()
        here = (*location, operator)
        if operator == "$ref":
            return self.compile_ref(raw_args, here, depth=depth, scoped=scoped)
        args = list(raw_args) if is_array(raw_args) else [raw_args]
        if operator == "var":
            return self.compile_var(args, here, depth=depth, scoped=scoped)
        spec = _OPERATORS.get(operator)
        if spec is None:
            return self.problem(location, f"unknown operator {operator!r}")
        low, high, pure, builder, scoping = spec
        if len(args) < low or (high is not None and len(args) > high):
            return self.problem(here, f"{operator!r} takes {_arity(low, high)}, got {len(args)}")
        wrapped = not is_array(raw_args)  # {"!": x} is short for {"!": [x]}
        compiled = [
            self.compile(
                arg,
                here if wrapped else (*here, i),
                depth=depth + 1,
                scoped=scoped or (scoping and i == 1),
            )
            for i, arg in enumerate(args)
        ]
        if operator == "fractional":
            # Whether the rule itself wrote the first argument as an array: only
            # then may it be a bucket. An array computed from the context (a
            # {"var": ...}) is a non-string bucketing value, so null; otherwise
            # a caller could pick their own variant with {"a": ["on", 1000000]}.
            first_is_array = bool(args) and is_array(args[0])
            return self.build_fractional(compiled, first_is_array=first_is_array)
        result = builder(self, compiled)
        if pure and all(isinstance(arg, _Literal) for arg in compiled):
            try:
                return _Literal(_as_node(result)(None))
            except Exception:  # leave the failure to runtime, where it is reported
                return result
        return result

    def compile_ref(self, name: Any, location: Path, *, depth: int, scoped: bool) -> _Compiled:
        if not isinstance(name, str):
            return self.problem(location, "$ref must name an evaluator (a string)")
        if name not in self.evaluators:
            return self.problem(location, f"$ref names no evaluator in $evaluators: {name!r}")
        if name in self._ref_stack:
            cycle = " -> ".join([*self._ref_stack[self._ref_stack.index(name) :], name])
            return self.problem(location, f"$ref cycle: {cycle}")
        self._ref_stack.append(name)
        try:
            target = ("$evaluators", name)
            return self.compile(self.evaluators[name], target, depth=depth + 1, scoped=scoped)
        finally:
            self._ref_stack.pop()

    def compile_var(
        self, args: list[Any], location: Path, *, depth: int, scoped: bool
    ) -> _Compiled:
        if len(args) > 2:
            return self.problem(location, f"'var' takes 0 to 2 arguments, got {len(args)}")
        path = self.compile(args[0] if args else "", (*location, 0), depth=depth + 1, scoped=scoped)
        default = _as_node(
            self.compile(
                args[1] if len(args) == 2 else None,
                (*location, 1),
                depth=depth + 1,
                scoped=scoped,
            )
        )
        if not isinstance(path, _Literal):
            self.needs_flagd = self.needs_flagd or not scoped
            path_node = path
            return lambda d: lookup(d, path_node(d), default(d))
        key = path.value
        if not scoped and key in ("", None, []):
            self.needs_flagd = True  # the whole context, $flagd included
        if not scoped and isinstance(key, str) and key.split(".")[0] == _FLAGD_KEY:
            return self.compile_flagd_var(key, default)
        if isinstance(key, str) and key and "." not in key:
            # The common case, {"var": "email"}: one dictionary read.
            def var_simple(data: Any) -> Any:
                if not isinstance(data, Mapping):
                    value = lookup(data, key, None)
                elif type(value := data.get(key)) not in PLAIN_TYPES:
                    value = plain(value)  # as ``lookup`` does: see its docstring
                return default(data) if value is None else value

            return var_simple
        return lambda d: lookup(d, key, default(d))

    def compile_flagd_var(self, key: str, default: Node) -> _Compiled:
        if key == "$flagd.flagKey":
            return _Literal(self.flag_key)
        if key == "$flagd.timestamp":
            clock = self.clock
            return lambda _d: int(clock())
        self.needs_flagd = True
        return lambda d: lookup(d, key, default(d))

    def build_fractional(self, args: list[_Compiled], *, first_is_array: bool) -> _Compiled:
        salt = self.flag_key
        first = args[0]
        # A literal array first is a bucket (no bucketing expression given); a
        # literal string is the bucketing value; literal null means "absent".
        if (
            isinstance(first, _Literal)
            and not isinstance(first.value, str)
            and first.value is not None
        ):
            if not is_array(first.value):
                return _Literal(None)  # a non-string bucketing value: flagd returns null
            bucket_by: Node | None = None
            specs = args
        else:
            bucket_by = _as_node(first)
            specs = args[1:]
        spec_nodes = _values(specs)
        static = all(isinstance(spec, _Literal) for spec in specs)
        # Literal buckets (the usual case) are parsed once, here.
        static_values = [node(None) for node in spec_nodes] if static else []
        fixed = parse_buckets(static_values) if static else None
        if static and fixed is None and (bucket_by is None or isinstance(first, _Literal)):
            return _Literal(None)

        def fractional(data: Any) -> Any:
            value = None if bucket_by is None else bucket_by(data)
            if is_array(value) and first_is_array:
                # The rule's first argument is a bucket with computed parts.
                rest = static_values if static else [node(data) for node in spec_nodes]
                parsed = parse_buckets([value, *rest])
                value = None
            elif value is not None and not issubclass(type(value), str):
                return None  # a non-string bucketing value: flagd returns null
            elif static:
                parsed = fixed
            else:
                parsed = parse_buckets([node(data) for node in spec_nodes])
            if parsed is None:
                return None
            if value is not None:
                # A string UTF-8 cannot encode has no bucket: null, like a non-string.
                return pick_bucket("", value, *parsed)
            targeting_key = data.get("targetingKey") if isinstance(data, Mapping) else None
            # No bucketing value and no (encodable) string targeting key: null.
            return pick_bucket(salt, targeting_key, *parsed)

        return fractional


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"exactly {low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _not_truthy(value: Any) -> bool:
    return not truthy(value)


#: operator -> (min args, max args, pure, builder, second argument runs per
#: array element). ``var`` and ``$ref`` are compiled by the compiler itself.
_OPERATORS: Final[dict[str, tuple[int, int | None, bool, _Builder, bool]]] = {
    "if": (0, None, True, _build_if, False),
    "?:": (0, None, True, _build_if, False),
    "and": (1, None, True, _build_and, False),
    "or": (1, None, True, _build_or, False),
    "!": (1, 1, True, _unary(_not_truthy), False),
    "!!": (1, 1, True, _unary(truthy), False),
    "==": (2, 2, True, _binary(loose_equals), False),
    "!=": (2, 2, True, _binary(lambda a, b: not loose_equals(a, b)), False),
    "===": (2, 2, True, _binary(strict_equals), False),
    "!==": (2, 2, True, _binary(lambda a, b: not strict_equals(a, b)), False),
    "<": (2, 3, True, _comparison(or_equal=False, flipped=False), False),
    "<=": (2, 3, True, _comparison(or_equal=True, flipped=False), False),
    ">": (2, 2, True, _comparison(or_equal=False, flipped=True), False),
    ">=": (2, 2, True, _comparison(or_equal=True, flipped=True), False),
    "in": (2, 2, True, _build_in, False),
    "cat": (0, None, True, _variadic(lambda values: "".join(map(js_string, values))), False),
    "substr": (2, 3, True, _variadic(_substr), False),
    "+": (0, None, True, _variadic(_plus), False),
    "-": (1, 2, True, _variadic(_minus), False),
    "*": (1, None, True, _variadic(_times), False),
    "/": (2, 2, True, _binary(js_divide), False),
    "%": (2, 2, True, _binary(js_remainder), False),
    "min": (0, None, True, _variadic(_extreme(min, math.inf)), False),
    "max": (0, None, True, _variadic(_extreme(max, -math.inf)), False),
    "merge": (0, None, True, _variadic(_merge), False),
    "missing": (0, None, False, _build_missing, False),
    "missing_some": (2, 2, False, _build_missing_some, False),
    "map": (2, 2, True, _array_operator(lambda f, xs: [f(x) for x in xs], []), True),
    "filter": (
        2,
        2,
        True,
        _array_operator(lambda f, xs: [x for x in xs if truthy(f(x))], []),
        True,
    ),
    "reduce": (2, 3, True, _build_reduce, True),
    "all": (
        2,
        2,
        True,
        _array_operator(lambda f, xs: bool(xs) and all(truthy(f(x)) for x in xs), False),
        True,
    ),
    "some": (2, 2, True, _array_operator(lambda f, xs: any(truthy(f(x)) for x in xs), False), True),
    "none": (
        2,
        2,
        True,
        _array_operator(lambda f, xs: not any(truthy(f(x)) for x in xs), True),
        True,
    ),
    "fractional": (1, None, False, lambda _c, _a: _Literal(None), False),
    "sem_ver": (3, 3, True, _variadic(lambda values: sem_ver(*values)), False),
    "starts_with": (2, 2, True, _binary(starts_with), False),
    "ends_with": (2, 2, True, _binary(ends_with), False),
}


#: Every operator name a rule may use (besides ``var`` and ``$ref``).
OPERATORS: Final = frozenset(_OPERATORS)
