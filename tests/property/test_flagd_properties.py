"""Hypothesis invariants of flagd evaluation: it never raises, whatever the input."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit._errors import DefinitionError
from flagkit.formats.flagd._govalues import GoPanic, is_number
from flagkit.formats.flagd._jsonlogic import (
    OPERATORS,
    CompiledLogic,
    EvaluationFailure,
    _Env,
    compile_logic,
    parse_values,
)
from tests.formats.flagd_resolve import flagd_client, resolve
from tests.helpers import examples

# Strings murmur3 and UTF-8 cannot take (lone surrogates) are the nastiest input.
strings = st.one_of(st.text(max_size=12), st.sampled_from(["\ud800", "", "1.2.3", "v1", "@x"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(strings, inner, max_size=4)
    ),
    max_leaves=12,
)
contexts = st.dictionaries(
    st.one_of(strings, st.sampled_from(["targetingKey", "email", "version", "$flagd", "n"])),
    json_values,
    max_size=6,
)

DOCUMENT: dict[str, Any] = {
    "flags": {
        "split": {
            "variants": {"a": 1, "b": 2},
            "defaultVariant": "a",
            "targeting": {"fractional": [["a", 1], ["b", {"var": "n"}]]},
        },
        "by-email": {
            "variants": {"a": "A", "b": "B"},
            "targeting": {"fractional": [{"var": "email"}, ["a", 50], ["b", 50]]},
        },
        "version": {
            "variants": {"true": True, "false": False},
            "defaultVariant": "false",
            "targeting": {"sem_ver": [{"var": "version"}, "^", "2.0.0"]},
        },
        "anything": {
            "variants": {"x": "X"},
            "defaultVariant": "x",
            "targeting": {
                "if": [
                    {"in": [{"var": "email"}, {"var": "n"}]},
                    {"cat": [{"var": "n"}, {"substr": [{"var": "email"}, {"var": "n"}]}]},
                    {"reduce": [{"var": "n"}, {"*": [{"var": "current"}, 9e15]}, 1]},
                ]
            },
        },
        "whole-context": {"variants": {"x": "X"}, "targeting": {"var": ""}},
    }
}
CLIENT = flagd_client(DOCUMENT)


@settings(max_examples=examples(300), deadline=None)
@given(context=contexts, key=st.sampled_from([*DOCUMENT["flags"], "missing"]))
def test_resolution_never_raises(context: dict[str, Any], key: str) -> None:
    """Resolving any flag for any JSON context returns a resolution, never an exception."""
    resolution = resolve(CLIENT, key, context, default="d", expected="string")
    assert resolution.reason in {"STATIC", "TARGETING_MATCH", "DEFAULT", "DISABLED", "ERROR"}


operator_names = st.sampled_from(sorted([*OPERATORS, "var", "$ref"]))
rules = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.builds(lambda op, args: {op: args}, operator_names, st.lists(inner, max_size=4)),
        st.builds(lambda op, arg: {op: arg}, operator_names, inner),
    ),
    max_leaves=16,
)


@settings(max_examples=examples(500), deadline=None)
@given(rule=rules, context=contexts)
def test_any_rule_compiles_or_reports_and_never_raises(rule: Any, context: dict[str, Any]) -> None:
    """Any rule either compiles or raises DefinitionError; evaluating it never raises."""
    try:
        compiled = compile_logic(rule, flag_key="f", evaluators={"r": {"var": "n"}})
    except DefinitionError:
        return
    assert isinstance(compiled, CompiledLogic)
    compiled(context)


def _interpreted(rule: Any, context: dict[str, Any]) -> Any:
    """Run ``rule`` through the interpreter alone (the direct port of Go's engine)."""
    env = _Env("f", lambda: 1_700_000_000, "v2")
    try:
        return parse_values(rule, env.full(context), env)
    except GoPanic:
        return "<panic>"
    except Exception as exc:  # hostile values: the compiled rule reports these as GENERAL
        return f"<{type(exc).__name__}>"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return (bool(a == b) and type(a) is type(b)) or (a == b and is_number(a) and is_number(b))


@settings(max_examples=examples(500), deadline=None)
@given(rule=rules, context=contexts)
def test_compiled_rules_agree_with_the_interpreter(rule: Any, context: dict[str, Any]) -> None:
    """The closures and the direct port of Go's engine give the same result for any rule."""
    try:
        compiled = compile_logic(
            rule, flag_key="f", evaluators={"r": {"var": "n"}}, clock=lambda: 1_700_000_000
        )
    except DefinitionError:
        return
    result = compiled(context)
    if isinstance(result, EvaluationFailure):
        result = "<panic>" if result.parse_error else f"<{result.message.split(':')[0]}>"
    expected = _interpreted(_inline(rule), context)
    assert _same(expected, result), (rule, context, expected, result)


def _inline(rule: Any) -> Any:
    """Inline ``{"$ref": "r"}`` as the compiler does (the interpreter has no evaluators)."""
    if isinstance(rule, dict):
        if len(rule) == 1 and "$ref" in rule and rule["$ref"] == "r":
            return {"var": "n"}
        if len(rule) == 1:
            ((key, value),) = rule.items()
            return {key: _inline(value)}
        return rule
    if isinstance(rule, list):
        return [_inline(item) for item in rule]
    return rule
