"""flagd targeting reads subclasses in the context by value, and never crashes on them.

``var`` is where context data enters a JSON Logic rule; what it finds is
read as a plain value (``flagkit._core.values.plain``), and ``==``, ``===``
and ``in`` compare plain values too. A value whose class lies (``__eq__``
always True, ``isascii`` True, ``encode`` returning a str) answers exactly
as the value it is made of.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import flagkit
from flagkit.formats.flagd._jsonlogic import compile_logic
from flagkit.formats.flagd._jsvalues import js_number, lookup
from tests.hostile import ATTRIBUTES, Agreeable, Liar, flagd_document, torture

CLIENT = flagkit.Client.from_dict(flagd_document(), format="flagd")

VALUES: list[tuple[type, Any]] = [
    (str, "user-1"),
    (str, "NL"),
    (str, "beta"),
    (str, "a@x.io"),
    (str, "2.0.0"),
    (str, "x\ud800"),
    (int, 5),
    (int, 2**64),
    (float, 1.5),
    (float, math.nan),
    (list, ["beta", "NL", 5]),
]


def answers(context: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Return every flag's (value, variant, reason, error code) for ``context``."""
    return {
        key: (d.value, d.variant, d.reason, d.error_code)
        for key, d in CLIENT.all_flags(context).items()
    }


def same(left: dict[str, tuple[Any, ...]], right: dict[str, tuple[Any, ...]]) -> bool:
    """Compare answers, NaN included (a NaN variant value is not equal to itself)."""
    return repr(left) == repr(right)


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
@pytest.mark.parametrize(("base", "value"), VALUES, ids=repr)
def test_a_torture_subclass_answers_as_its_value(base: type, value: Any, behaviour: Any) -> None:
    """Every rule (==, ===, in, sem_ver, fractional, arithmetic...) sees only the value."""
    for attribute in ATTRIBUTES:
        expected = answers({"targetingKey": "user-7", attribute: value})
        hostile = torture(base, behaviour, value)
        assert same(expected, answers({"targetingKey": "user-7", attribute: hostile})), attribute


def test_a_liar_targeting_key_buckets_by_its_characters() -> None:
    """fractional hashes the key's own UTF-8 bytes, never what its methods claim."""
    for text in ("user-1", "x\ud800", "é"):
        assert same(answers({"targetingKey": text}), answers({"targetingKey": Liar(text)}))


def test_eq_that_always_answers_true_matches_nothing() -> None:
    """==, === and in compare values: an object agreeing with everything is unequal to "NL"."""

    context = {"country": Agreeable(), "age": Agreeable(), "tags": [Agreeable()]}
    served = {
        key: CLIENT.get_details(key, None, context).variant
        for key in ("equals", "strict", "in-list", "in-var", "in-text")
    }
    assert dict.fromkeys(served, "off") == served


def test_a_surrogate_flag_key_with_fractional_is_missing_not_a_crash() -> None:
    """A flag key UTF-8 cannot encode salts nothing: fractional is null, the default variant."""
    details = CLIENT.get_bool_details("k\ud800", True, {"targetingKey": "user-1"})
    assert (False, "off", flagkit.Reason.DEFAULT) == (
        details.value,
        details.variant,
        details.reason,
    )


@pytest.mark.parametrize("text", ["\u0661", "1\u0662", "\u0661e3", "0x\u0661"])
def test_numbers_are_read_with_ascii_digits_only(text: str) -> None:
    """JavaScript's Number() reads ASCII digits; other scripts' digits are NaN."""
    assert math.isnan(js_number(text))
    rule = compile_logic({"-": [{"var": "n"}, 1]}, flag_key="f")
    assert math.isnan(rule({"n": text}))
    assert 1 == compile_logic({"+": [{"var": "n"}, 0]}, flag_key="f")({"n": "1\u0662"})


def test_array_indexes_are_ascii_digits() -> None:
    """``tags.\\u0661`` is no index (JavaScript reads it as a property name), and "²" no crash."""
    data = {"tags": ["a", "b"]}
    assert ["b", None, None] == [
        lookup(data, "tags.1", None),
        lookup(data, "tags.\u0661", None),
        lookup(data, "tags.\u00b2", None),
    ]
