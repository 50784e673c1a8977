"""Unleash constraints and strategies compiled into predicates over a context.

Semantics are the reference engine's (Yggdrasil, ``strategy_parsing.rs``):
every operator reads the context value as a string and parses it as it
needs; a missing or unparsable value makes the constraint false; then
``inverted`` negates the result, absent values included (so an inverted
``STR_CONTAINS`` holds for a context without the field). ``NOT_IN`` holds for
a missing value. ``caseInsensitive`` lower-cases both sides of the string
operators and makes a regex ignore case.

A constraint whose operand Unleash's grammar cannot read (an unknown
operator, a malformed number, instant or version) raises
:class:`ConstraintError`: the engine then turns the whole feature off, and
the compiler isolates it the same way.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import flagkit.formats.unleash._values as values
from flagkit._types import ContextLike
from flagkit.formats.unleash._context import Reader

__all__ = [
    "OPERATORS",
    "ConstraintError",
    "Predicate",
    "always",
    "compile_constraint",
    "in_random_percent",
]

Predicate = Callable[[ContextLike], bool]
Test = Callable[[str], bool]

#: f64::EPSILON: NUM_EQ's tolerance in the reference engine.
_EPSILON = 2.220446049250313e-16


class ConstraintError(ValueError):
    """A constraint Unleash cannot compile: the feature it is in is unusable."""


def _string_test(op: str, operands: Sequence[str], ignore_case: bool) -> Test:
    needles = tuple(o.lower() for o in operands) if ignore_case else tuple(operands)
    if op == "STR_CONTAINS":
        test: Test = lambda text: any(n in text for n in needles)  # noqa: E731
    elif op == "STR_STARTS_WITH":
        test = lambda text: text.startswith(needles)  # noqa: E731
    else:
        test = lambda text: text.endswith(needles)  # noqa: E731
    if ignore_case:
        return lambda text: test(text.lower())
    return test


def _number_test(op: str, operand: str) -> Test:
    bound = values.operand_number(operand)
    if bound is None:
        raise ConstraintError(f"{op} needs a number, not {operand!r}")
    compare: Callable[[float], bool] = {
        "NUM_EQ": lambda n: abs(n - bound) < _EPSILON,
        "NUM_GT": lambda n: n > bound,
        "NUM_GTE": lambda n: n >= bound,
        "NUM_LT": lambda n: n < bound,
        "NUM_LTE": lambda n: n <= bound,
    }[op]

    def test(text: str) -> bool:
        number = values.context_number(text)
        return number is not None and compare(number)

    return test


def _instant_test(op: str, operand: str) -> Test:
    bound = values.operand_instant(operand)
    if bound is None:
        raise ConstraintError(f"{op} needs an RFC 3339 date-time, not {operand!r}")
    after = op == "DATE_AFTER"

    def test(text: str) -> bool:
        instant = values.context_instant(text)
        if instant is None:
            return False
        return instant > bound if after else instant < bound

    return test


def _semver_test(op: str, operand: str) -> Test | None:
    if operand.startswith("v"):
        return None  # the engine compiles a leading "v" to a constant false
    bound = values.operand_semver(operand)
    if bound is None:
        raise ConstraintError(f"{op} needs a semantic version, not {operand!r}")
    compare: Callable[[values.SemVer], bool] = {
        "SEMVER_EQ": lambda v: v == bound,
        "SEMVER_GT": lambda v: v > bound,
        "SEMVER_LT": lambda v: v < bound,
        "SEMVER_GTE": lambda v: v >= bound,
        "SEMVER_LTE": lambda v: v <= bound,
    }[op]

    def test(text: str) -> bool:
        version = values.context_semver(text)
        return version is not None and compare(version)

    return test


def _cidr_test(operands: Sequence[str]) -> Test:
    ranges = values.ip_ranges(operands)

    def test(text: str) -> bool:
        address = values.ip_of(text)
        return address is not None and values.in_ranges(address, ranges)

    return test


_STRING_OPS = frozenset({"STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH"})
_NUMBER_OPS = frozenset({"NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE"})
_SEMVER_OPS = frozenset({"SEMVER_EQ", "SEMVER_GT", "SEMVER_LT", "SEMVER_GTE", "SEMVER_LTE"})
#: Every operator of the client specification.
OPERATORS = frozenset(
    {"IN", "NOT_IN", "IN_CIDR", "REGEX", "DATE_AFTER", "DATE_BEFORE"}
    | _STRING_OPS
    | _NUMBER_OPS
    | _SEMVER_OPS
)


def _test_of(op: str, operands: Sequence[str], value: str | None, ignore_case: bool) -> Test | None:
    """Return the value test of an operator; None for a constant false."""
    if op in _STRING_OPS:
        return _string_test(op, operands, ignore_case)
    if op == "IN_CIDR":
        return _cidr_test(operands)
    if op == "REGEX":
        return values.compile_regex(value or "", ignore_case=ignore_case)
    if value is None:
        raise ConstraintError(f"{op} needs a `value`")
    if op in _NUMBER_OPS:
        return _number_test(op, value)
    if op in ("DATE_AFTER", "DATE_BEFORE"):
        return _instant_test(op, value)
    return _semver_test(op, value)


def compile_constraint(
    read: Reader,
    op: str,
    operands: Sequence[str] | None,
    value: str | None,
    *,
    inverted: bool,
    case_insensitive: bool,
) -> Predicate:
    """Return the predicate of one constraint (see the module docstring)."""
    if op not in OPERATORS:
        raise ConstraintError(f"unknown operator {op!r}")
    listed = tuple(operands or ())
    if op in ("IN", "NOT_IN"):
        members = frozenset(listed)
        # NOT_IN holds for a missing value; IN does not (an empty list: never).
        if op == "IN":

            def holds(ctx: ContextLike) -> bool:
                return read(ctx) in members

        else:

            def holds(ctx: ContextLike) -> bool:
                return read(ctx) not in members

        return _inverted(holds) if inverted else holds
    test = _test_of(op, listed, value, case_insensitive)
    if test is None:
        return _constant(inverted)
    value_test = test

    def applies(ctx: ContextLike) -> bool:
        text = read(ctx)
        return text is not None and value_test(text)

    return _inverted(applies) if inverted else applies


def _inverted(predicate: Predicate) -> Predicate:
    return lambda ctx: not predicate(ctx)


def _constant(result: bool) -> Predicate:
    return lambda _ctx: result


def in_random_percent(percent: int) -> Predicate:
    """Return gradualRolloutRandom's test: a draw in 1..99 below ``percent``.

    Random by definition (the specification's own strategy); the engine
    draws from ``1..100`` exclusive, so 100% is always and 0% never.
    """
    return lambda _ctx: random.randrange(1, 100) < percent


def always(result: bool) -> Predicate:
    """Return a predicate that ignores the context."""
    return _constant(result)
