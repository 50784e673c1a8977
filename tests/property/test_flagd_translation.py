"""The flat translation of flagd targeting answers exactly as the general closure path.

``_translate`` renders the common ``if`` shapes as native plan rules; the
closures of ``_jsonlogic`` (checked against Go flagd by the test kit and the
differential tests) are the reference. Random translatable rules, random
contexts full of hostile values: both must give the same outcome.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit._core.snapshot import Outcome
from flagkit.formats.flagd._compile import compile_flagd_document
from flagkit.formats.flagd._snapshot import _lazy_evaluator, _outcomes
from flagkit.formats.flagd._translate import translate_targeting
from tests.helpers import examples
from tests.hostile import Generator, Liar

ATTRIBUTES = ("a", "b", "n")
VARIANTS = {"on": "ON", "off": "OFF", "true": "T", "1": "one", "0.5": "half"}
#: Text that reads as a number to Go, or nearly (flagd's loose ``==`` and ``in``), and versions.
TEXTS = (
    "NL",
    "pro",
    "",
    "1",
    "1.0",
    "0",
    " 2 ",
    "-1e3",
    "0x10",
    "NaN",
    "Infinity",
    "abc",
    "v1.2.3",
)

texts = st.sampled_from(TEXTS)
literals = st.one_of(
    texts,
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 2, -1, 2**64, 1.0, 0.5, -0.0, 1e308]),
)
variables = st.sampled_from(ATTRIBUTES).map(lambda name: {"var": name})


def _either_way(var: dict[str, str], literal: Any, flip: bool) -> list[Any]:
    return [literal, var] if flip else [var, literal]


leaves = st.one_of(
    st.builds(lambda v, items: {"in": [v, items]}, variables, st.lists(texts, max_size=4)),
    st.builds(lambda v, t, f: {"==": _either_way(v, t, f)}, variables, texts, st.booleans()),
    st.builds(
        lambda op, v, lit, f: {op: _either_way(v, lit, f)},
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        variables,
        literals,
        st.booleans(),
    ),
    st.builds(
        lambda op, v, affix: {op: [v, affix]},
        st.sampled_from(["starts_with", "ends_with"]),
        variables,
        st.one_of(texts, literals),
    ),
    st.builds(
        lambda v, op, version: {"sem_ver": [v, op, version]},
        variables,
        st.sampled_from(["=", ">=", "<", "^", "~", "!=", "bad"]),
        st.sampled_from(["1.0.0", "v2", "2.1", "x", 2]),
    ),
    st.builds(
        lambda op, low, v, high: {op: [low, v, high]},
        st.sampled_from(["<", "<="]),
        literals,
        variables,
        literals,
    ),
)
negated = st.builds(lambda leaf, wrap: {"!": [leaf] if wrap else leaf}, leaves, st.booleans())
conjunctions = st.one_of(
    leaves,
    negated,
    st.lists(st.one_of(leaves, negated), min_size=1, max_size=3).map(lambda items: {"and": items}),
)
conditions = st.one_of(
    conjunctions,
    st.lists(conjunctions, min_size=1, max_size=3).map(lambda items: {"or": items}),
)
branches = st.one_of(
    st.sampled_from([*VARIANTS, "missing", None, True, 1, 0.5]), st.sampled_from(["on", "off"])
)


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    """Return a translatable ``if``: conditions and literal branches, with or without an else."""
    pairs = draw(st.lists(st.tuples(conditions, branches), min_size=1, max_size=3))
    args: list[Any] = [item for pair in pairs for item in pair]
    if draw(st.booleans()):
        args.append(draw(branches))
    return {draw(st.sampled_from(["if", "?:"])): args}


def _value(rng: random.Random) -> Any:
    """Return a context value: numbers as text, numbers, null, booleans, subclasses, hostiles."""
    choice = rng.randrange(6)
    if choice == 0:
        return rng.choice(TEXTS)
    if choice == 1:
        return rng.choice((0, 1, 2, -1, 1.0, 0.5, math.nan, math.inf, 2**64, None, True, False))
    if choice == 2:
        return Liar(rng.choice(TEXTS))
    if choice == 3:
        return rng.choice(([], ["NL"], [1, 2], {"a": 1}, ("pro",)))
    return Generator(rng).scalar()


class _Mapping(Mapping[str, Any]):
    """A context that is a mapping but not a ``dict``: the translation hands it on."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def evaluators(rule: dict[str, Any]) -> tuple[Any, Any, list[Any]]:
    """Return (the translation, the closure evaluator, the contexts the fallback got)."""
    document = {"flags": {"f": {"variants": VARIANTS, "defaultVariant": "off", "targeting": rule}}}
    compiled = compile_flagd_document(document).flags["f"]
    assert compiled.rule is not None
    closure = _lazy_evaluator("f", compiled.rule, VARIANTS, "off")
    handed: list[Any] = []

    def fallback(ctx: Any) -> Outcome:
        handed.append(ctx)
        return closure(ctx)

    translated = translate_targeting(
        rule,
        flag_key="f",
        outcomes=lambda: _outcomes("f", VARIANTS, "off")[0],
        fallback=fallback,
    )
    assert translated is not None, rule
    return translated, closure, handed


def _answer(outcome: Outcome) -> tuple[Any, ...]:
    resolution, bucket = outcome
    return (
        resolution.variant,
        resolution.value,
        resolution.has_value,
        resolution.reason,
        resolution.error_code,
        resolution.error_message,
        bucket,
    )


@settings(max_examples=examples(400), deadline=None)
@given(rule=rules(), rng=st.randoms(use_true_random=False), hostile=st.booleans())
def test_translated_rules_answer_as_the_closures(
    rule: dict[str, Any], rng: random.Random, hostile: bool
) -> None:
    """A translatable rule gives the closure path's outcome for every context, hostile or not."""
    translated, closure, handed = evaluators(rule)
    for _ in range(8):
        context: dict[str, Any] = {
            name: _value(rng) if hostile else rng.choice((*TEXTS, 0, 1, 2.5, None, True, [1]))
            for name in rng.sample(ATTRIBUTES, rng.randrange(len(ATTRIBUTES) + 1))
        }
        expected = _answer(closure(context))
        assert expected == _answer(translated(context)), (rule, context)
        assert expected == _answer(translated(_Mapping(context))), (rule, context)
    if not hostile:  # plain values never need the fallback: the flat path answered
        assert [type(ctx) for ctx in handed] == [_Mapping] * 8
