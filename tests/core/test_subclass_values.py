"""A subclass in the context evaluates exactly as the value it is made of.

Context values may be subclasses of ``str``, ``int``, ``float``, ``list``
or ``dict`` that override every method (``tests.hostile.torture``): to
raise, or to lie (``__eq__`` always True, ``__hash__`` 0, ``isascii`` True,
``encode`` returning a str, endless ``__iter__``...). Conditions, segments,
prerequisites and rollouts must read the value, not the object's opinion
of it: every flag of a document that uses every operator on every attribute
must answer a tortured value exactly as it answers the plain one.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import flagkit
from flagkit import ErrorCode
from flagkit._core.semver import parse_version
from tests.hostile import (
    ATTRIBUTES,
    Agreeable,
    Liar,
    Plan,
    Tenant,
    native_document,
    torture,
)

CLIENT = flagkit.Client.from_dict(native_document())

VALUES: list[tuple[type, Any]] = [
    (str, "user-1"),
    (str, "NL"),
    (str, "pro"),
    (str, "user-1@x.io"),
    (str, "2.0.0"),
    (str, "2030-06-01T00:00:00Z"),
    (str, "x\ud800"),
    (str, ""),
    (int, 5),
    (int, 0),
    (int, 2**64 - 1),
    (int, 2**64),
    (float, 1.5),
    (float, math.inf),
    (list, ["beta", 2]),
]


def answers(context: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Return every flag's (value, variant, reason, error code, bucket) for ``context``."""
    return {
        key: (d.value, d.variant, d.reason, d.error_code, d.bucket)
        for key, d in CLIENT.all_flags(context).items()
    }


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
@pytest.mark.parametrize(("base", "value"), VALUES, ids=repr)
def test_a_torture_subclass_answers_as_its_value(base: type, value: Any, behaviour: Any) -> None:
    """Every flag (each operator, negated or not, segments, rollouts) sees only the value."""
    for attribute in ATTRIBUTES:
        hostile = torture(base, behaviour, value)
        expected = answers({"targetingKey": "user-7", attribute: value})
        actual = answers({"targetingKey": "user-7", attribute: hostile})
        assert expected == actual, attribute


@pytest.mark.parametrize("value", ["user-1", "NL", "x\ud800"])
def test_a_liar_answers_as_its_characters(value: str) -> None:
    """A str claiming to be ASCII and equal to everything matches only what its text does."""
    for attribute in ATTRIBUTES:
        expected = answers({attribute: value})
        assert expected == answers({attribute: Liar(value)}), attribute


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
def test_a_nested_mapping_is_read_through_its_get(behaviour: Any) -> None:
    """``org.id`` asks the ``org`` mapping (its ``get`` is the context protocol), by value."""
    org = torture(dict, behaviour, {"id": "acme"})
    details = CLIENT.get_bool_details("ramp", False, {"org": org})
    if behaviour == "raise":
        assert (ErrorCode.GENERAL, "Hostile") == (
            details.error_code,
            (details.error_message or "").split(":")[0],
        )
    else:  # its get answers a string UTF-8 cannot encode: no bucketing key
        assert ErrorCode.TARGETING_KEY_MISSING == details.error_code


def test_equals_ignores_an_eq_that_always_answers_true() -> None:
    """Single-value equals, in, contains and numeric comparisons compare values, not objects."""

    hostile = {"country": Agreeable(), "age": Agreeable(), "tags": [Agreeable()]}
    served = {k: d.value for k, d in CLIENT.all_flags(hostile).items() if d.value == "yes"}
    # Only negated conditions hold (the value is of no operand's type: not_equals and
    # not_in are false too), and exists.
    assert {"country-16", "age-16", "tags-16"} == set(served)


def test_enum_members_answer_as_their_values() -> None:
    """StrEnum and IntEnum members (common in real code) are their values."""
    assert answers({"plan": "pro", "age": 7, "targetingKey": "free"}) == answers(
        {"plan": Plan.PRO, "age": Tenant.ACME, "targetingKey": Plan.FREE}
    )


@pytest.mark.parametrize("text", ["1\u0662.0.0", "\u0661.0.0", "1.0.\u0663", "1.0.0-\u0661"])
def test_semver_reads_ascii_digits_only(text: str) -> None:
    """Other scripts' digits are no version: "1\\u0662.0.0" is not 12.0.0."""
    assert parse_version(text) is None
    assert "no" == CLIENT.get_str("version-13", "?", {"version": text})
    assert "yes" == CLIENT.get_str("version-13", "?", {"version": "12.0.0"})
