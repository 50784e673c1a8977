"""flagd's JSON Logic, with Go flagd's semantics, compiled into plain Python closures.

Go flagd (the server users run) evaluates targeting with
``github.com/diegoholiveira/jsonlogic/v3`` (v3.9.1) plus flagd's own
operators. This module gives every operator that library's run-time
behaviour, ported from its source (``jsonlogic.go``, ``operation.go``,
``logic.go``, ``comp.go``, ``math.go``, ``strings.go``, ``lists.go``,
``arrays.go``, ``vars.go``); the value rules are in ``_govalues`` and flagd's
operators in ``_operators``. ``docs/flagd.md`` lists where the JavaScript and
Python cores differ.

Two halves share the operator functions:

- an **interpreter** (:func:`apply`), a direct port, for what Go evaluates
  from raw rules at run time: the array operators (``map``, ``filter``,
  ``reduce``, ``all``, ``some``, ``none``, which substitute variables into
  their rule before applying it per element) and objects that a result turns
  out to be (``if`` applies an object its branch returns);
- a **compiler** (:func:`compile_logic`) that turns every other operator into
  a closure once, at load, with literal sub-trees folded and the common
  cases (``var`` of a key, ``in`` a literal list, ``==`` a literal) reduced to
  a dictionary read and a comparison. Both call the same operator functions,
  so they cannot drift apart (``tests/property`` checks it).

A rule is refused at load (the flag resolves ``PARSE_ERROR``) when it names
an operator Go flagd does not have, a ``$ref`` to a missing evaluator or a
``$ref`` cycle, or nests deeper than 64 levels. Everything else fails, if at
all, at run time as Go does: a Go panic (a failed type assertion, an index
out of range) is an :class:`EvaluationFailure` with ``PARSE_ERROR``, which is
what flagd answers.

Context data enters a rule through ``var`` (and ``missing``, ``set`` and the
array operators, which read it the same way): what it reads is a plain value
(``values.plain``: a subclass of a built-in becomes the exact value it is
made of), and the value rules in ``_govalues`` read by value too, so no
method of a caller's class runs and a subclass answers as its value does
(Go has no subclasses).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from flagkit._core.values import PLAIN_TYPES, plain
from flagkit._errors import Problem, describe
from flagkit._types import Clock
from flagkit.formats._problems import Path, definition_error
from flagkit.formats.flagd._govalues import (
    GoPanic,
    equals,
    go_int,
    hard_equals,
    interface_equals,
    is_array,
    is_map,
    is_number,
    is_primitive,
    is_true,
    js_number,
    key_text,
    less,
    to_number,
    to_string,
    trim_space,
)
from flagkit.formats.flagd._operators import (
    FlagdHashing,
    ends_with,
    fractional,
    sem_ver,
    starts_with,
)

__all__ = [
    "OPERATORS",
    "CompiledLogic",
    "EvaluationFailure",
    "PreparedLogic",
    "apply",
    "compile_logic",
    "prepare_logic",
    "text_equal",
    "text_member",
]

#: A compiled node: takes the evaluation data and returns a JSON-like value.
Node: TypeAlias = Callable[[Any], Any]

#: Rules nested deeper than this are refused at load: real targeting is
#: shallow, and the bound keeps compilation and evaluation off the
#: interpreter's recursion limit for hostile documents.
MAX_DEPTH: Final = 64

_FLAGD_KEY: Final = "$flagd"


@dataclass(frozen=True, slots=True)
class EvaluationFailure:
    """A rule that failed at run time: ERROR with PARSE_ERROR (a Go panic) or GENERAL."""

    message: str
    parse_error: bool = True


class _Env:
    """What operators need beyond their arguments: the flag, its clock and hashing."""

    __slots__ = ("clock", "flag_key", "hashing")

    def __init__(self, flag_key: str, clock: Clock, hashing: FlagdHashing) -> None:
        self.flag_key = flag_key
        self.clock = clock
        self.hashing = hashing

    def full(self, data: Any) -> Any:
        """Return the context with ``$flagd`` set, as flagd hands it to the engine."""
        if not is_map(data):
            return data
        full = dict(data)
        full[_FLAGD_KEY] = {"flagKey": self.flag_key, "timestamp": int(self.clock())}
        return full


#: The environment of a rule being checked (checking reads none of it).
_CHECKING: Final = _Env("", time.time, "v2")


# --------------------------------------------------------------------------
# Operators whose arguments are evaluated first (Go: ``parseValues``); each
# takes the evaluated arguments (a list, or one value when the rule gave no
# array), the data and the environment.


def _list(parsed: Any) -> list[Any] | tuple[Any, ...]:
    if type(parsed) is list:
        return parsed
    if not is_array(parsed):
        raise GoPanic(f"interface conversion: {type(parsed).__name__} is not []interface {{}}")
    return plain(parsed)  # type: ignore[no-any-return]  # a subclass: its real items


def _item(items: Any, index: int) -> Any:
    items = _list(items)
    if index >= len(items):
        raise GoPanic(f"runtime error: index out of range [{index}] with length {len(items)}")
    return items[index]


def _is_equal(parsed: Any, _d: Any, _e: _Env) -> bool:
    items = _list(parsed)
    return len(items) >= 2 and equals(items[0], items[1])


def _comparison(
    two: Callable[[Any, Any], bool], three: Callable[[Any, Any, Any], bool]
) -> Callable[[Any, Any, _Env], bool]:
    def compare(parsed: Any, _d: Any, _e: _Env) -> bool:
        items = _list(parsed)
        if len(items) < 2:
            return False
        if len(items) == 3:
            return three(items[0], items[1], items[2])
        return two(items[0], items[1])

    return compare


def _less_or_equal(a: Any, b: Any) -> bool:
    return less(a, b) or equals(a, b)


def _negative(parsed: Any, _d: Any, _e: _Env) -> bool:
    if is_array(parsed) and len(parsed) > 0:
        return not is_true(parsed[0])
    return not is_true(parsed)


def _in_range(value: Any, bounds: Any) -> bool:
    low, high = _item(bounds, 0), _item(bounds, 1)
    return to_number(value) >= to_number(low) and to_number(high) >= to_number(value)


def _in(parsed: Any, _d: Any, _e: _Env) -> bool:
    items = _list(parsed)
    needle = plain(_item(items, 0))
    haystack: Any = plain(items[1]) if len(items) > 1 else None
    if type(haystack) is str:
        if type(needle) is not str:
            raise GoPanic("interface conversion: interface {} is not string")
        return needle in haystack
    if not is_array(haystack):
        return False
    for element in haystack:
        if is_array(element):
            if _in_range(needle, element):
                return True
        elif is_number(needle):
            if to_number(element) == float(needle):
                return True
        elif interface_equals(element, needle):
            return True
    return False


def _cat(parsed: Any, _d: Any, _e: _Env) -> str:
    if issubclass(type(parsed), str):
        return str.__str__(parsed)
    items = _list(parsed)
    if not items:
        return ""
    if len(items) == 1:
        return to_string(items[0])
    return trim_space("".join(to_string(item) for item in items))


def _substr(parsed: Any, _d: Any, _e: _Env) -> str:
    items = _list(parsed)
    text = to_string(_item(items, 0))
    start = go_int(to_number(_item(items, 1)))
    length = len(text)
    if start < 0:
        start += length
    if start < 0 or start > length:
        return text
    if len(items) == 3:
        length = go_int(to_number(items[2]))
    end = min(len(text) + length if length < 0 else start + length, len(text))
    if end < start:
        raise GoPanic(f"runtime error: slice bounds out of range [{start}:{end}]")
    return text[start:end]


def _sum(parsed: Any, _d: Any, _e: _Env) -> float:
    if not is_array(parsed):
        return to_number(parsed)
    total = 0.0
    for item in parsed:
        total += to_number(item)
    return total


def _minus(parsed: Any, _d: Any, _e: _Env) -> float | int:
    items = _list(parsed)
    if not items:
        return 0
    if len(items) == 1:
        return -1 * to_number(items[0])
    total = to_number(items[0])
    for item in items[1:]:
        total -= to_number(item)
    return total


def _mult(parsed: Any, _d: Any, _e: _Env) -> float:
    product = 1.0
    for item in _list(parsed):
        product *= to_number(item)
    return product


def _divide(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _div(parsed: Any, _d: Any, _e: _Env) -> float | int:
    items = _list(parsed)
    if not items:
        return 0
    total = to_number(items[0])
    for item in items[1:]:
        total = _divide(total, to_number(item))
    return total


def _mod(parsed: Any, _d: Any, _e: _Env) -> float:
    x, y = to_number(_item(parsed, 0)), to_number(_item(parsed, 1))
    # Go's math.Mod: NaN for an infinite dividend, a zero or NaN divisor.
    if math.isinf(x) or math.isnan(x) or math.isnan(y) or y == 0:
        return math.nan
    return math.fmod(x, y)


def _abs(parsed: Any, _d: Any, _e: _Env) -> float:
    if is_array(parsed):
        return abs(to_number(_item(parsed, 0)))
    return abs(to_number(parsed))


def _extreme(bigger: bool) -> Callable[[Any, Any, _Env], float | None]:
    def extreme(parsed: Any, _d: Any, _e: _Env) -> float | None:
        items = _list(parsed)
        if not items:
            return None
        best = to_number(items[0])
        for item in items[1:]:
            number = to_number(item)
            if (number > best) if bigger else (best > number):
                best = number
        return best

    return extreme


def _merge(parsed: Any, _d: Any, _e: _Env) -> list[Any]:
    if is_primitive(parsed):
        return [parsed]
    merged: list[Any] = []
    for item in _list(parsed):
        if is_array(item):
            merged.extend(plain(item))  # a subclass's real items, not its __iter__'s
        else:
            merged.append(item)
    return merged


def _get_var(parsed: Any, data: Any) -> Any:
    """Return Go's ``getVar`` for evaluated arguments (``vars.go``), as a plain value.

    Context data enters the rule here: what is found is read as the plain
    value it is made of (``values.plain``), step by step along the path.
    """
    if type(parsed) not in PLAIN_TYPES:
        parsed = plain(parsed)
    if parsed is None:
        return plain(data) if is_primitive(data) else None
    if type(parsed) is str and not parsed:
        return plain(data)
    if is_number(parsed):
        parsed = to_string(parsed)
    default = None
    if is_array(parsed):
        if not parsed:
            return data
        if len(parsed) == 2:
            default = parsed[1]
        parsed = parsed[0]
    if type(parsed) is not str:
        parsed = plain(parsed)
        if type(parsed) is not str:
            raise GoPanic(f"interface conversion: {type(parsed).__name__} is not string")
    if data is None:
        return default
    value = data
    for part in parsed.split("."):
        if not part:
            continue
        if is_map(value):
            value = value.get(part)
            if type(value) not in PLAIN_TYPES:
                value = plain(value)
        elif is_array(value):
            position = go_int(to_number(part))
            if position < 0 or position >= len(value):
                return default
            value = plain(value[position])
        else:
            return default
        if value is None:
            return default
    return value


def _var(parsed: Any, data: Any, _e: _Env) -> Any:
    return _get_var(parsed, data)


def _missing(parsed: Any, data: Any, env: _Env) -> list[Any]:
    if isinstance(parsed, str):
        parsed = [parsed]
    return [key for key in _list(parsed) if _get_var(parse_values(key, data, env), data) is None]


def _missing_some(parsed: Any, data: Any, env: _Env) -> list[Any]:
    need = go_int(to_number(_item(parsed, 0)))
    absent, found = [], 0
    for key in _list(_item(parsed, 1)):
        if _get_var(parse_values(key, data, env), data) is None:
            absent.append(key)
        else:
            found += 1
    return absent if need > found else []


def _set(parsed: Any, data: Any, env: _Env) -> Any:
    items = _list(parsed)
    if len(items) < 3:
        return items[0] if items else None
    target = items[0]
    if not is_map(target):
        return target
    name = items[1]
    if not issubclass(type(name), str):
        raise GoPanic("interface conversion: interface {} is not string")
    modified = _deep_copy(target)
    modified[str.__str__(name)] = parse_values(items[2], data, env)
    return modified


def _deep_copy(value: Any) -> Any:
    """Return a deep copy of JSON data, read by value (no ``__deepcopy__`` of a caller's class)."""
    value = plain(value)
    if is_map(value):
        return {key: _deep_copy(item) for key, item in value.items()}
    if is_array(value):
        return type(value)(_deep_copy(item) for item in value)
    return value


def _slice_of(value: Any) -> list[Any] | tuple[Any, ...] | None:
    return plain(value) if is_array(value) else None


def _contains_element(items: Any, element: Any) -> bool:
    for item in items:
        if interface_equals(item, element):
            return True
        if is_number(item) and is_number(element) and to_number(item) == to_number(element):
            return True
    return False


def _contains(mode: str) -> Callable[[Any, Any, _Env], bool]:
    """Go jsonlogic's ``contains_all``, ``contains_any`` and ``contains_none``."""
    none = mode == "none"

    def contains(parsed: Any, _d: Any, _e: _Env) -> bool:
        if not is_array(parsed) or len(parsed) != 2:
            return none
        search, check = _slice_of(parsed[0]), _slice_of(parsed[1])
        if search is None or check is None:
            return none
        if mode == "all":
            return all(_contains_element(search, item) for item in check)
        found = any(_contains_element(search, item) for item in check)
        return not found if none else found

    return contains


def _fractional(parsed: Any, data: Any, env: _Env) -> Any:
    return fractional(parsed, data, flag_key=env.flag_key, hashing=env.hashing)


Operator: TypeAlias = Callable[[Any, Any, _Env], Any]

#: Operators whose arguments are evaluated first, and whether their result
#: depends on nothing but those arguments (so literal arguments fold).
_EAGER: Final[dict[str, tuple[Operator, bool]]] = {
    "==": (_is_equal, True),
    "!=": (lambda p, d, e: not _is_equal(p, d, e), True),
    "===": (lambda p, _d, _e: hard_equals(p), True),
    "!==": (lambda p, _d, _e: not hard_equals(p), True),
    "<": (_comparison(less, lambda a, b, c: less(a, b) and less(b, c)), True),
    "<=": (
        _comparison(_less_or_equal, lambda a, b, c: _less_or_equal(a, b) and _less_or_equal(b, c)),
        True,
    ),
    ">": (_comparison(lambda a, b: less(b, a), lambda a, b, c: less(c, b) and less(b, a)), True),
    ">=": (
        _comparison(
            lambda a, b: _less_or_equal(b, a),
            lambda a, b, c: _less_or_equal(c, b) and _less_or_equal(b, a),
        ),
        True,
    ),
    "!": (_negative, True),
    "!!": (lambda p, d, e: not _negative(p, d, e), True),
    "in": (_in, True),
    "cat": (_cat, True),
    "substr": (_substr, True),
    "+": (_sum, True),
    "-": (_minus, True),
    "*": (_mult, True),
    "/": (_div, True),
    "%": (_mod, True),
    "abs": (_abs, True),
    "max": (_extreme(bigger=True), True),
    "min": (_extreme(bigger=False), True),
    "merge": (_merge, True),
    "contains_all": (_contains("all"), True),
    "contains_any": (_contains("any"), True),
    "contains_none": (_contains("none"), True),
    "var": (_var, False),
    "missing": (_missing, False),
    "missing_some": (_missing_some, False),
    "set": (_set, False),
    "starts_with": (lambda p, _d, _e: starts_with(p), True),
    "ends_with": (lambda p, _d, _e: ends_with(p), True),
    "sem_ver": (lambda p, _d, _e: sem_ver(p), True),
    "fractional": (_fractional, False),
}


# --------------------------------------------------------------------------
# The interpreter: a port of jsonlogic.go's apply / parseValues, and the
# operators that take their rule unevaluated.


def apply(rule: Any, data: Any, env: _Env) -> Any:
    """Apply a rule object to data as Go's ``apply`` does (an object of 2+ keys is data)."""
    if not is_map(rule):
        raise GoPanic(
            f"interface conversion: {type(rule).__name__} is not map[string]interface {{}}"
        )
    if len(rule) > 1:
        return rule
    for operator, values in rule.items():
        return operation(key_text(operator), values, data, env)
    return {}


def parse_values(values: Any, data: Any, env: _Env) -> Any:
    """Evaluate an argument as Go's ``parseValues``: objects apply, arrays element-wise."""
    if values is None or is_primitive(values):
        return values
    if is_map(values):
        return apply(values, data, env)
    items = _list(values)
    if not items:
        return items
    return [parse_values(item, data, env) for item in items]


def operation(operator: str, values: Any, data: Any, env: _Env) -> Any:
    """Run one operator on its raw arguments (Go's ``operation``)."""
    lazy = _LAZY.get(operator)
    if lazy is not None:
        return lazy(values, data, env)
    eager = _EAGER.get(operator)
    if eager is None:
        raise GoPanic(f'The operator "{operator}" is not supported')
    return eager[0](parse_values(values, data, env), data, env)


def _and(values: Any, data: Any, env: _Env) -> Any:
    last = None
    for value in _list(values):
        last = parse_values(value, data, env)
        if not is_true(last):
            return last
    return last


def _or(values: Any, data: Any, env: _Env) -> Any:
    last = None
    for value in _list(values):
        last = parse_values(value, data, env)
        if is_true(last):
            return last
    return last


def _clause(value: Any, data: Any, env: _Env) -> Any:
    # Go's evaluateClause: an object a branch evaluates to is applied again.
    return apply(value, data, env) if is_map(value) else value


def _if(values: Any, data: Any, env: _Env) -> Any:
    clauses = _list(values)
    for i in range(0, len(clauses) - 1, 2):
        if is_true(parse_values(clauses[i], data, env)):
            return _clause(parse_values(clauses[i + 1], data, env), data, env)
    if len(clauses) % 2 == 1:
        return _clause(parse_values(clauses[-1], data, env), data, env)
    return None


def _solve_vars(values: Any, data: Any, env: _Env) -> Any:
    """Substitute the variables ``data`` defines into a rule (Go's ``solveVars``)."""
    if is_map(values):
        logic: dict[str, Any] = {}
        for key, value in values.items():
            if key == "var":
                if isinstance(value, str) and (not value or value.startswith(".")):
                    logic["var"] = value
                    continue
                found = _get_var(parse_values(value, data, env), data)
                if found is not None:
                    return found
                logic["var"] = value
            else:
                logic[key] = _solve_vars(value, data, env)
        return logic
    if is_array(values):
        return [_solve_vars(value, data, env) for value in values]
    return values


def _elements(subject: Any) -> list[Any]:
    """Return the elements an array operator runs over, each read as a plain value.

    Each becomes the data its rule reads, as the context does (``_get_var``).
    """
    return [plain(item) for item in _list(subject)]


def _subject(parsed: Any, data: Any, env: _Env) -> Any:
    first = _item(parsed, 0)
    if is_array(first):
        return first
    if is_map(first):
        return apply(first, data, env)
    return None


def _filter(values: Any, data: Any, env: _Env) -> list[Any]:
    parsed = _list(values)
    if len(parsed) < 2:
        return []
    subject = _subject(parsed, data, env)
    if subject is None:
        return []
    logic = _solve_vars(parsed[1], data, env)
    return [item for item in _elements(subject) if is_true(parse_values(logic, item, env))]


def _map(values: Any, data: Any, env: _Env) -> list[Any]:
    parsed = _list(values)
    if len(parsed) < 2:
        return []
    subject = _subject(parsed, data, env)
    if subject is None:
        return []
    return [parse_values(parsed[1], item, env) for item in _elements(subject)]


def _reduce(values: Any, data: Any, env: _Env) -> Any:
    parsed = _list(values)
    if len(parsed) < 3:
        return 0.0
    initial = parsed[2]
    if is_map(initial):
        initial = apply(initial, data, env)
    coerce: Callable[[Any], Any]
    if type(initial) is bool:
        kind, coerce = "bool", is_true
    elif is_number(initial):
        kind, coerce = "number", to_number
    elif issubclass(type(initial), str):
        kind, coerce = "string", to_string
    else:
        raise GoPanic(f'The type "{type(parsed[2]).__name__}" is not supported')
    context: dict[str, Any] = {"current": 0.0, "accumulator": coerce(initial), "valueType": kind}
    subject = _subject(parsed, data, env)
    if subject is None:
        return 0.0
    for item in _elements(subject):
        if item is None:
            continue
        context["current"] = item
        context["accumulator"] = coerce(apply(parsed[1], context, env))
    return context["accumulator"]


def _all(values: Any, data: Any, env: _Env) -> bool:
    parsed = _list(values)
    subject = _subject(parsed, data, env)
    if not is_true(subject):
        return False
    for item in _elements(subject):
        conditions = _solve_vars(_item(parsed, 1), item, env)
        if not is_true(apply(conditions, item, env)):
            return False
    return True


def _none(values: Any, data: Any, env: _Env) -> bool:
    parsed = _list(values)
    subject = _subject(parsed, data, env)
    if not is_true(subject):
        return True
    conditions = _solve_vars(_item(parsed, 1), data, env)
    return not any(is_true(apply(conditions, item, env)) for item in _elements(subject))


def _some(values: Any, data: Any, env: _Env) -> bool:
    parsed = _list(values)
    subject = _subject(parsed, data, env)
    if not is_true(subject):
        return False
    logic = _solve_vars(_item(parsed, 1), data, env)
    for item in _elements(subject):
        conditions = _solve_vars(logic, item, env)
        if is_true(apply(conditions, item, env)):
            return True
    return False


#: Operators that take their arguments unevaluated.
_LAZY: Final[dict[str, Callable[[Any, Any, _Env], Any]]] = {
    "and": _and,
    "or": _or,
    "if": _if,
    "?:": _if,
    "filter": _filter,
    "map": _map,
    "reduce": _reduce,
    "all": _all,
    "none": _none,
    "some": _some,
}

#: The array operators: compiled as calls into the interpreter.
_ARRAY_OPERATORS: Final = frozenset({"filter", "map", "reduce", "all", "none", "some"})

#: Every operator name Go flagd knows (``var`` included; ``$ref`` is flagd's own).
OPERATORS: Final = frozenset(_EAGER) | frozenset(_LAZY)


# --------------------------------------------------------------------------
# The compiler.


class CompiledLogic:
    """A compiled targeting rule: call it with an evaluation context.

    Calling never raises: a Go panic comes back as an
    :class:`EvaluationFailure` with ``parse_error`` (flagd's PARSE_ERROR),
    anything else (a hostile object in the context) without it. The context
    is a mapping of attribute names to JSON-like values; ``$flagd.flagKey``
    and ``$flagd.timestamp`` are supplied by the rule itself (any ``$flagd``
    in the context is replaced, as flagd does).
    """

    __slots__ = ("_env", "_needs_flagd", "_node")

    def __init__(self, node: Node, *, env: _Env, needs_flagd: bool) -> None:
        self._node = node
        self._env = env
        self._needs_flagd = needs_flagd

    @property
    def node(self) -> Node | None:
        """Return the compiled node when it can run on the context as it is, else None.

        A caller may run it directly, outside :meth:`__call__`'s guard, as long
        as it calls the rule itself again when the node raises.
        """
        return None if self._needs_flagd else self._node

    def __call__(self, context: Mapping[str, Any]) -> Any:
        try:
            return self._node(self._env.full(context) if self._needs_flagd else context)
        except GoPanic as exc:
            return EvaluationFailure(str(exc))
        except Exception as exc:  # evaluation never raises (DESIGN invariant 1)
            return EvaluationFailure(describe(exc), parse_error=False)


def compile_logic(
    rule: Any,
    *,
    evaluators: Mapping[str, Any] | None = None,
    flag_key: str,
    clock: Clock = time.time,
    location: Path = ("targeting",),
    hashing: FlagdHashing = "v2",
) -> CompiledLogic:
    """Compile a JSON Logic ``rule`` (already parsed from JSON) for ``flag_key``.

    ``evaluators`` is the document's ``$evaluators`` map for ``{"$ref": name}``;
    ``clock`` returns Unix seconds for ``$flagd.timestamp``; ``location`` prefixes
    the path of every reported problem (e.g. ``flags.my-flag.targeting``);
    ``hashing`` is how ``fractional`` hashes (v2 or v3). Raises
    :class:`DefinitionError` with every problem found.
    """
    return prepare_logic(
        rule,
        evaluators=evaluators,
        flag_key=flag_key,
        clock=clock,
        location=location,
        hashing=hashing,
    ).compiled()


class PreparedLogic:
    """A rule checked at load and compiled on its first use.

    Checking finds every problem compiling could (``prepare_logic`` raises
    them), so a flag is never refused at evaluation time; compiling only
    builds closures, and a document of 10,000 flags pays for the ones that
    are evaluated. Concurrent first uses may both compile: the results are
    equal, and either serves.
    """

    __slots__ = ("_clock", "_compiled", "_evaluators", "_flag_key", "_hashing", "_text")

    def __init__(
        self,
        rule: Any,
        evaluators: Mapping[str, Any],
        *,
        flag_key: str,
        clock: Clock,
        hashing: FlagdHashing,
        text: str | None = None,
    ) -> None:
        # Held as compact JSON until first use: a string costs a tenth of the
        # objects of the rule itself, which 10,000 flags would otherwise keep.
        # ``text`` may be given: the JSON of an object whose ``targeting`` it is.
        self._text: Any
        if text is not None:
            self._text = (text,)
        else:
            try:
                self._text = json.dumps(rule, separators=(",", ":"))
            except (TypeError, ValueError):  # keys JSON cannot write (YAML): keep the rule
                self._text = _Literal(rule)
        self._evaluators = evaluators
        self._flag_key = flag_key
        self._clock = clock
        self._hashing = hashing
        self._compiled: CompiledLogic | None = None

    def compiled(self) -> CompiledLogic:
        """Return the compiled rule (compiling it the first time)."""
        compiled = self._compiled
        if compiled is None:
            env = _Env(self._flag_key, self._clock, self._hashing)
            compiler = _Compiler(self._evaluators, env)
            text = self._text
            if isinstance(text, _Literal):
                rule = text.value
            elif isinstance(text, tuple):
                rule = json.loads(text[0])["targeting"]
            else:
                rule = json.loads(text)
            resolved = compiler.resolve(rule, ("targeting",), depth=0)
            node = _as_node(compiler.compile(resolved))
            compiled = CompiledLogic(node, env=env, needs_flagd=compiler.needs_flagd)
            self._compiled = compiled
        return compiled

    def __call__(self, context: Mapping[str, Any]) -> Any:
        return self.compiled()(context)


def prepare_logic(
    rule: Any,
    *,
    evaluators: Mapping[str, Any] | None = None,
    flag_key: str,
    clock: Clock = time.time,
    location: Path = ("targeting",),
    hashing: FlagdHashing = "v2",
    flag_text: str | None = None,
) -> PreparedLogic:
    """Check a JSON Logic ``rule`` (``$ref`` inlined) and return it, to compile on first use.

    The arguments are :func:`compile_logic`'s; ``flag_text``, when given, is
    the JSON of the flag whose ``targeting`` the rule is (kept instead of
    writing the rule again). Raises :class:`DefinitionError` with every
    problem found.
    """
    compiler = _Compiler(evaluators or {}, _CHECKING)
    compiler.check(rule, location, depth=0)
    if compiler.problems:
        raise definition_error(compiler.problems)
    return PreparedLogic(
        rule, compiler.evaluators, flag_key=flag_key, clock=clock, hashing=hashing, text=flag_text
    )


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


def _panic(message: str) -> Node:
    def fail(_data: Any) -> Any:
        raise GoPanic(message)

    return fail


#: The node types that need no check: JSON's text, booleans, integers and null.
_LEAVES: Final = frozenset({str, bool, int, type(None)})


class _Compiler:
    """Resolves ``$ref`` and checks a rule, then turns it into closures."""

    def __init__(self, evaluators: Mapping[str, Any], env: _Env) -> None:
        self.evaluators = evaluators
        self.env = env
        self.problems: list[Problem] = []
        self.needs_flagd = False
        self._ref_stack: list[str] = []

    def problem(self, location: Path, message: str) -> None:
        self.problems.append(Problem(location, message))

    # -- pass 1: inline $ref, refuse what Go flagd cannot run ----------------

    def resolve(self, rule: Any, location: Path, *, depth: int) -> Any:
        """Return ``rule`` with every ``$ref`` inlined, reporting problems as it goes."""
        kind = type(rule)
        if kind is str or kind is bool or kind is int or rule is None:
            return rule  # the usual leaves, told apart at once
        if depth > MAX_DEPTH:
            self.problem(location, f"rule is nested deeper than {MAX_DEPTH} levels")
            return None
        if kind is list or is_array(rule):
            return [
                self.resolve(item, (*location, i), depth=depth + 1) for i, item in enumerate(rule)
            ]
        if kind is not dict and not is_map(rule):
            if isinstance(rule, float) and not math.isfinite(rule):
                self.problem(location, "numbers must be finite")
            elif not (rule is None or isinstance(rule, str | bool | int | float)):
                self.problem(location, f"unsupported value of type {type(rule).__name__}")
            return rule
        if len(rule) != 1:
            return rule  # an object of 0 or 2+ keys is data to Go's engine, not a rule
        ((operator, args),) = rule.items()
        here = (*location, operator)
        if operator == "$ref":
            return self.resolve_ref(args, here, depth=depth)
        if operator not in OPERATORS:
            self.problem(location, f"unknown operator {operator!r}")
            return None
        return {operator: self.resolve(args, here, depth=depth + 1)}

    def check(self, rule: Any, location: Path, *, depth: int) -> None:
        """Report every problem ``resolve`` would, building nothing (the load-time check).

        Leaves (text, booleans, integers, null) are the most common nodes and
        need no call; only containers recurse.
        """
        kind = type(rule)
        if kind is dict and len(rule) == 1:
            ((operator, args),) = rule.items()
            if operator == "$ref" or operator not in OPERATORS or depth > MAX_DEPTH:
                self.resolve(rule, location, depth=depth)  # the rare case: report it
                return
            kind = type(args)
            if kind is list:
                here = (*location, operator)
                for i, item in enumerate(args):
                    if type(item) not in _LEAVES:
                        self.check(item, (*here, i), depth=depth + 2)
            elif kind not in _LEAVES:
                self.check(args, (*location, operator), depth=depth + 1)
        elif kind is list and depth <= MAX_DEPTH:
            for i, item in enumerate(rule):
                if type(item) not in _LEAVES:
                    self.check(item, (*location, i), depth=depth + 1)
        elif kind is not dict and kind not in _LEAVES:
            self.resolve(rule, location, depth=depth)

    def resolve_ref(self, name: Any, location: Path, *, depth: int) -> Any:
        if not isinstance(name, str):
            self.problem(location, "$ref must name an evaluator (a string)")
            return None
        if name not in self.evaluators:
            self.problem(location, f"$ref names no evaluator in $evaluators: {name!r}")
            return None
        if name in self._ref_stack:
            cycle = " -> ".join([*self._ref_stack[self._ref_stack.index(name) :], name])
            self.problem(location, f"$ref cycle: {cycle}")
            return None
        self._ref_stack.append(name)
        try:
            return self.resolve(self.evaluators[name], ("$evaluators", name), depth=depth + 1)
        finally:
            self._ref_stack.pop()

    # -- pass 2: closures ----------------------------------------------------

    def compile(self, rule: Any) -> _Compiled:
        kind = type(rule)
        if kind is str or kind is bool or kind is int or kind is float or rule is None:
            return _Literal(rule)
        if kind is list or is_array(rule):
            items = [self.compile(item) for item in rule]
            if all(isinstance(item, _Literal) for item in items):
                return _Literal([item.value for item in items])  # type: ignore[union-attr]
            nodes = [_as_node(item) for item in items]
            return lambda d: [node(d) for node in nodes]
        if not is_map(rule) or len(rule) != 1:
            return _Literal(rule if not is_map(rule) or rule else {})
        ((operator, args),) = rule.items()
        if operator in _ARRAY_OPERATORS:
            return self.interpreted(operator, args)
        lazy = _LAZY_BUILDERS.get(operator)
        if lazy is not None:
            if not is_array(args):
                return _panic("interface conversion: interface {} is not []interface {}")
            return lazy(self, [self.compile(arg) for arg in args])
        function, pure = _EAGER[operator]
        compiled = self.compile(args)
        if operator == "var":
            return self.compile_var(compiled)
        special = _SPECIAL_BUILDERS.get(operator)
        if special is not None and is_array(args):
            built = special(self, compiled, args)
            if built is not None:
                return built
        if pure and isinstance(compiled, _Literal):
            try:
                return _Literal(function(compiled.value, None, self.env))
            except GoPanic:  # leave the failure to run time, where flagd meets it
                pass
        arguments = _as_node(compiled)
        env = self.env
        if operator in ("missing", "missing_some", "set"):
            self.needs_flagd = True  # they read the whole context, $flagd included
        return lambda d: function(arguments(d), d, env)

    def interpreted(self, operator: str, args: Any) -> Node:
        # The array operators substitute the outer variables into their rule
        # and apply it per element: Go evaluates them from the raw rule.
        run = _LAZY[operator]
        env = self.env
        return lambda d: run(args, env.full(d), env)

    def compile_var(self, compiled: _Compiled) -> _Compiled:
        env = self.env
        if not isinstance(compiled, _Literal):
            path = compiled
            return lambda d: _get_var(path(d), env.full(d))
        path_value = compiled.value
        key = path_value[0] if is_array(path_value) and path_value else path_value
        if isinstance(key, str) and key.split(".")[0] == _FLAGD_KEY and len(key.split(".")) <= 2:
            if key == "$flagd.flagKey":
                return _Literal(env.flag_key)
            if key == "$flagd.timestamp":
                clock = env.clock
                return lambda _d: int(clock())
        if not isinstance(key, str) or not key or key.split(".")[0] == _FLAGD_KEY:
            # The whole context, or a part of $flagd: read the full data.
            return lambda d: _get_var(path_value, env.full(d))
        if "." not in key:
            default = path_value[1] if is_array(path_value) and len(path_value) == 2 else None

            def var_key(data: Any) -> Any:
                # The common {"var": "email"}: one dictionary read, its value read
                # as a plain value (what ``_get_var`` returns: see its docstring).
                if type(data) is dict:
                    value = data.get(key)
                    if type(value) is str:
                        return value
                    if value is None:
                        return default
                    return value if type(value) in PLAIN_TYPES else plain(value)
                return _get_var(path_value, data)

            if default is None:
                var_key.var_key = key  # type: ignore[attr-defined]  # consumers may inline the read
            return var_key
        return lambda d: _get_var(path_value, d)


def _truth(test: _Compiled) -> Callable[[Any], bool]:
    """Return a function telling whether ``test`` holds, reading a read of a key at once."""
    node = _as_node(test)
    key = getattr(node, "var_key", None)
    if key is None:
        return lambda d: is_true(node(d))

    def holds(data: Any) -> bool:
        value = data.get(key) if type(data) is dict else node(data)
        return value is True or (value is not False and value is not None and is_true(value))

    return holds


def _build_if(compiler: _Compiler, args: list[_Compiled]) -> _Compiled:
    env = compiler.env

    def clause(value: Any, data: Any) -> Any:
        # Go's evaluateClause: an object a branch evaluates to is applied again.
        if type(value) is str or value is None or not is_map(value):
            return value
        return apply(value, env.full(data), env)

    if len(args) == 3 and all(
        isinstance(arg, _Literal) and not is_map(arg.value) for arg in args[1:]
    ):
        # {"if": [test, "on", "off"]}: two constants, no call to reach them.
        holds = _truth(args[0])
        on, off = args[1].value, args[2].value  # type: ignore[union-attr]
        return lambda d: on if holds(d) else off
    nodes = [_as_node(arg) for arg in args]
    pairs = [(_truth(args[i]), nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
    otherwise = nodes[-1] if len(nodes) % 2 == 1 else None

    if len(pairs) == 1 and otherwise is not None:
        (test, then) = pairs[0]

        def if_then_else(data: Any) -> Any:
            value = then(data) if test(data) else otherwise(data)
            return value if type(value) is str else clause(value, data)

        return if_then_else

    def if_chain(data: Any) -> Any:
        for test, then in pairs:
            if test(data):
                return clause(then(data), data)
        return None if otherwise is None else clause(otherwise(data), data)

    return if_chain


def _build_and(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    nodes = [_as_node(arg) for arg in args]
    if len(nodes) == 2:
        first, second = nodes

        def both(data: Any) -> Any:
            value = first(data)
            if value is True or (value is not False and value is not None and is_true(value)):
                return second(data)
            return value

        return both

    def all_of(data: Any) -> Any:
        value = None
        for node in nodes:
            value = node(data)
            if not is_true(value):
                return value
        return value

    return all_of


def _build_or(_c: _Compiler, args: list[_Compiled]) -> _Compiled:
    nodes = [_as_node(arg) for arg in args]

    def any_of(data: Any) -> Any:
        value = None
        for node in nodes:
            value = node(data)
            if is_true(value):
                return value
        return value

    return any_of


_LAZY_BUILDERS: Final[dict[str, Callable[[_Compiler, list[_Compiled]], _Compiled]]] = {
    "if": _build_if,
    "?:": _build_if,
    "and": _build_and,
    "or": _build_or,
}


def text_member(haystack: list[str]) -> tuple[frozenset[str], Callable[[Any], bool]]:
    """Return ``in`` a literal list of text: its set, and the test of any other value.

    An exact ``str`` is looked up in the set; the test answers for every
    other value read from the context (as ``var`` reads it, or raw): a
    subclass by its value (its own hash and ``__eq__`` never run), numbers
    by Go's float comparison with each item read as a number (text that is
    no number reads 0), and null, booleans, arrays and objects never match.
    The closures and the flat translation (``_translate``) share it.
    """
    members = frozenset(haystack)
    numbers = [to_number(item) for item in haystack]

    def other(value: Any) -> bool:
        value = plain(value)
        if type(value) is str:
            return value in members
        if is_number(value):
            return float(value) in numbers
        return False  # null, booleans, arrays and objects equal no text

    return members, other


def text_equal(text: str) -> Callable[[Any], bool]:
    """Return the test of ``==`` a literal text for a value that is not an exact ``str``.

    Go's ``equals``: null equals no text, a subclass compares as text (by
    its value), anything else as a JavaScript number (``"1" == 1``). Shared
    by the closures and the flat translation (``_translate``).
    """
    number = js_number(text)

    def other(value: Any) -> bool:
        if value is None:
            return False
        if type(value) not in PLAIN_TYPES:
            value = plain(value)  # what ``var`` reads
        if type(value) is str:  # a subclass, read by value
            return bool(value == text)
        return bool(js_number(value) == number)

    return other


def _build_in(_c: _Compiler, compiled: _Compiled, args: Any) -> _Compiled | None:
    """``{"in": [x, ["a", "b"]]}``: a set lookup for text, a float compare for numbers."""
    if isinstance(compiled, _Literal) or len(args) != 2:
        return None
    haystack = args[1]
    if not is_array(haystack) or not all(isinstance(item, str) for item in haystack):
        return None
    members, other = text_member(haystack)
    needle = _as_node(_c.compile(args[0]))
    key = getattr(needle, "var_key", None)

    def member(data: Any) -> bool:
        value: Any = data.get(key) if key is not None and type(data) is dict else needle(data)
        return value in members if type(value) is str else other(value)

    return member


def _build_equal(_c: _Compiler, compiled: _Compiled, args: Any) -> _Compiled | None:
    """``{"==": [x, "text"]}`` (either way round): a string compare, else Go's ``equals``."""
    if isinstance(compiled, _Literal) or len(args) != 2:
        return None
    literal = [i for i, arg in enumerate(args) if isinstance(arg, str)]
    if len(literal) != 1:
        return None
    text = str.__str__(args[literal[0]])  # by value: a subclass's ``__eq__`` never runs
    other_value = _as_node(_c.compile(args[1 - literal[0]]))
    other = text_equal(text)

    def equal(data: Any) -> bool:
        value = other_value(data)
        return bool(value == text) if type(value) is str else other(value)

    return equal


def _build_affix(method: str) -> Callable[[_Compiler, _Compiled, Any], _Compiled | None]:
    """``{"ends_with": [x, "@example.com"]}``: a method call on text, else null (as in Go)."""
    test = getattr(str, method)

    def build(_c: _Compiler, compiled: _Compiled, args: Any) -> _Compiled | None:
        if isinstance(compiled, _Literal) or len(args) != 2 or not isinstance(args[1], str):
            return None
        affix = args[1]
        subject = _as_node(_c.compile(args[0]))
        key = getattr(subject, "var_key", None)
        if key is not None:

            def affix_of_key(data: Any) -> bool | None:
                value = data.get(key) if type(data) is dict else subject(data)
                if type(value) is str:
                    return test(value, affix)  # type: ignore[no-any-return]
                return test(str.__str__(value), affix) if issubclass(type(value), str) else None

            return affix_of_key

        def affix_of(data: Any) -> bool | None:
            value = subject(data)
            return test(str.__str__(value), affix) if issubclass(type(value), str) else None

        return affix_of

    return build


_SPECIAL_BUILDERS: Final[dict[str, Callable[[_Compiler, _Compiled, Any], _Compiled | None]]] = {
    "in": _build_in,
    "==": _build_equal,
    "starts_with": _build_affix("startswith"),
    "ends_with": _build_affix("endswith"),
}
