"""Conditions compiled into predicates over a context mapping.

Each condition becomes one closure, built once per snapshot. Semantics:

* a missing attribute, or a value of the wrong type for the operator, makes
  the condition false, and ``negate`` does not change that (``exists`` is the
  one operator that looks at absence itself);
* with several operands (``values``) the condition holds when any holds;
* ``not_equals`` and ``not_in`` are ``equals`` and ``in`` negated;
* a value is tested as the plain built-in it is made of (``values.plain``),
  by its real type: an object whose ``__eq__`` always answers True, or a
  ``str`` subclass lying about its length, matches only what its value does.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flagkit._core.safe_regex import MAX_SUBJECT, compile_safe
from flagkit._core.semver import Version, parse_version
from flagkit._core.timeutil import timestamp_of
from flagkit._core.values import plain
from flagkit._types import ContextLike

__all__ = [
    "MISSING",
    "Predicate",
    "all_of",
    "attribute_getter",
    "compile_condition",
    "match_in",
    "safe_pattern",
    "string_equal",
    "string_member",
]

Predicate = Callable[[ContextLike], bool]
ValueTest = Callable[[Any], bool]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

safe_pattern = functools.lru_cache(maxsize=4096)(compile_safe)


def attribute_getter(path: str) -> Callable[[ContextLike], Any]:
    """Return a function reading ``path`` (dotted for nested) from a context."""
    if "." not in path:

        def get_flat(ctx: ContextLike) -> Any:
            return ctx.get(path, MISSING)

        return get_flat
    parts = tuple(path.split("."))

    def get_nested(ctx: ContextLike) -> Any:
        value: Any = ctx
        for part in parts:
            # The real type, not ``isinstance``: a ``__class__`` property cannot pose
            # as a mapping. A mapping is read through its own ``get`` (that is the
            # context protocol); what it returns is tested by value.
            if not issubclass(type(value), Mapping):
                return MISSING
            value = value.get(part, MISSING)
            if value is MISSING:
                return MISSING
        return value

    return get_nested


def match_in(operands: Sequence[Any]) -> ValueTest:
    """Return a typed set-membership test of a plain value (see ``values.plain``).

    Strings, numbers and booleans never mix. The value's type is checked
    before it is compared, so only values of an operand's type can match.
    """
    strings = frozenset(o for o in operands if type(o) is str)
    booleans = frozenset(o for o in operands if type(o) is bool)
    numbers = frozenset(o for o in operands if _is_number(o))

    if not booleans and not numbers:
        if len(strings) == 1:
            (only,) = strings
            return lambda value: type(value) is str and value == only
        return lambda value: type(value) is str and value in strings

    def in_typed(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is bool:
            return value in booleans
        if kind is int or kind is float:
            return value in numbers
        return False

    return in_typed


def string_member(value: Any, members: frozenset[str]) -> bool:
    """Return True when ``value`` is a string (or str subclass) in ``members``.

    Subclasses are compared by their string value: an Enum hashes by its
    *name*, so ``StrEnum`` members would otherwise never be found in a set.
    The type is read with ``type()``, which an object cannot fake, and the
    value with ``str.__str__``, which a subclass cannot override.
    """
    return issubclass(type(value), str) and str.__str__(value) in members


def string_equal(value: Any, expected: str) -> bool:
    """Return True when ``value`` is a string (or str subclass) equal to ``expected``.

    Only the string value is compared, so an object whose ``__eq__`` always
    answers True does not match.
    """
    return issubclass(type(value), str) and str.__str__(value) == expected


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def _is_string(value: Any) -> bool:
    return type(value) is str


def _contains(operands: Sequence[Any]) -> ValueTest:
    member = match_in(operands)
    needles = tuple(o for o in operands if type(o) is str)

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return any(needle in value for needle in needles)
        if kind is list or kind is tuple:
            return any(member(plain(item)) for item in value)
        return False

    return test


def _affix(method: str) -> Callable[[Sequence[Any]], ValueTest]:
    def build(operands: Sequence[Any]) -> ValueTest:
        affixes = tuple(str(o) for o in operands)
        check = getattr(str, method)
        return lambda value: type(value) is str and check(value, affixes)

    return build


def _matchable(value: Any) -> bool:
    return type(value) is str and len(value) <= MAX_SUBJECT


def _matches(operands: Sequence[Any]) -> ValueTest:
    patterns = tuple(safe_pattern(str(o)) for o in operands)

    def test(value: Any) -> bool:
        if not _matchable(value):
            return False
        return any(p.search(value) is not None for p in patterns)

    return test


def _numeric(compare: Callable[[Any, Any], bool]) -> Callable[[Sequence[Any]], ValueTest]:
    def build(operands: Sequence[Any]) -> ValueTest:
        bounds = tuple(o for o in operands if _is_number(o))

        def test(value: Any) -> bool:
            if not _is_number(value):
                return False
            return any(compare(value, bound) for bound in bounds)

        return test

    return build


def _version(value: Any) -> Version | None:
    return parse_version(value) if type(value) is str else None


def _semver(
    compare: Callable[[Version, Version], bool],
) -> Callable[[Sequence[Any]], ValueTest]:
    def build(operands: Sequence[Any]) -> ValueTest:
        versions = tuple(v for v in (parse_version(str(o)) for o in operands) if v is not None)

        def test(value: Any) -> bool:
            version = _version(value)
            return version is not None and any(compare(version, bound) for bound in versions)

        return test

    return build


def _instant(compare: Callable[[float, float], bool]) -> Callable[[Sequence[Any]], ValueTest]:
    def build(operands: Sequence[Any]) -> ValueTest:
        bounds = tuple(t for t in (timestamp_of(o) for o in operands) if t is not None)

        def test(value: Any) -> bool:
            stamp = timestamp_of(value)
            return stamp is not None and any(compare(stamp, bound) for bound in bounds)

        return test

    return build


def _exists(_operands: Sequence[Any]) -> ValueTest:
    return lambda value: value is not MISSING and value is not None


# The operator table: name -> (builder of the value test, negated by default).
_OPERATORS: dict[str, tuple[Callable[[Sequence[Any]], ValueTest], bool]] = {
    "equals": (match_in, False),
    "not_equals": (match_in, True),
    "in": (match_in, False),
    "not_in": (match_in, True),
    "contains": (_contains, False),
    "starts_with": (_affix("startswith"), False),
    "ends_with": (_affix("endswith"), False),
    "matches": (_matches, False),
    "lt": (_numeric(operator.lt), False),
    "lte": (_numeric(operator.le), False),
    "gt": (_numeric(operator.gt), False),
    "gte": (_numeric(operator.ge), False),
    "semver_eq": (_semver(operator.eq), False),
    "semver_lt": (_semver(operator.lt), False),
    "semver_lte": (_semver(operator.le), False),
    "semver_gt": (_semver(operator.gt), False),
    "semver_gte": (_semver(operator.ge), False),
    "before": (_instant(operator.lt), False),
    "after": (_instant(operator.gt), False),
    "exists": (_exists, False),
}

# What a present value must be for an operator to apply at all; a value of
# another type makes the condition false even when negated.
_ACCEPTS: dict[str, ValueTest] = {
    "contains": lambda v: type(v) in (str, list, tuple),
    "starts_with": _is_string,
    "ends_with": _is_string,
    "matches": _matchable,
    "semver": lambda v: _version(v) is not None,
    "number": _is_number,
    "instant": lambda v: timestamp_of(v) is not None,
}


def _accepts(op: str, operands: Sequence[Any]) -> ValueTest:
    if op.startswith("semver"):
        return _ACCEPTS["semver"]
    if op in ("lt", "lte", "gt", "gte"):
        return _ACCEPTS["number"]
    if op in ("before", "after"):
        return _ACCEPTS["instant"]
    if op in _ACCEPTS:
        return _ACCEPTS[op]
    # equals / in: a value of a type some operand has.
    kinds = {str if type(o) is str else bool if type(o) is bool else float for o in operands}
    return lambda v: (
        (str in kinds and type(v) is str)
        or (bool in kinds and type(v) is bool)
        or (float in kinds and _is_number(v))
    )


def compile_condition(
    attribute: str | None,
    op: str,
    operands: Sequence[Any],
    negate: bool,
    segments: Mapping[str, Predicate] | None = None,
) -> Predicate:
    """Compile one condition into a predicate over a context."""
    if op == "in_segment":
        members = tuple((segments or {})[name] for name in operands)
        if negate:
            return lambda ctx: not any(member(ctx) for member in members)
        if len(members) == 1:
            return members[0]
        return lambda ctx: any(member(ctx) for member in members)

    get = attribute_getter(attribute or "targetingKey")
    build, negated = _OPERATORS[op]
    test = build(operands)
    if negate:
        negated = not negated
    if op == "exists":
        if negated:
            return lambda ctx: not test(get(ctx))
        return lambda ctx: test(get(ctx))
    # Values are tested as the plain built-ins they are made of (``values.plain``):
    # a subclass cannot lie its way into a match.
    if not negated:
        return lambda ctx: test(plain(get(ctx)))
    accepts = _accepts(op, operands)

    def negated_test(ctx: ContextLike) -> bool:
        value = plain(get(ctx))
        return value is not MISSING and accepts(value) and not test(value)

    return negated_test


def all_of(predicates: Sequence[Predicate]) -> Predicate:
    """Return a predicate that holds when every one of ``predicates`` does."""
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda ctx: first(ctx) and second(ctx)
    items = tuple(predicates)
    return lambda ctx: all(p(ctx) for p in items)
