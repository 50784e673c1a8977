"""flagd targeting reads subclasses in the context by value, and never crashes on them.

``var`` is where context data enters a JSON Logic rule; what it finds is
read as a plain value (``flagkit._core.values.plain``), and Go's value rules
(``_govalues``: ``==``, ``===``, ``!=``, ``<``, ``in``, truthiness, numbers,
text, ``sem_ver``, ``fractional``'s v2 and v3 hashing) read values by their
real type and value too. A value whose class lies (``__eq__`` always True,
``isascii`` True, ``encode`` returning a str) answers exactly as the value it
is made of: Go has no subclasses.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import flagkit
from flagkit.formats.flagd._cbor import canonical_cbor
from flagkit.formats.flagd._govalues import js_number, to_number
from flagkit.formats.flagd._jsonlogic import compile_logic
from tests.hostile import ATTRIBUTES, Agreeable, Liar, flagd_document, torture

CLIENT = flagkit.Client.from_dict(flagd_document(), format="flagd")
#: fractional v3 hashes the CBOR of the bucketing value (flagd-core 2.0).
V3 = flagkit.Client.from_dict(flagd_document(), format="flagd", flagd_hashing="v3")

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


def answers(context: dict[str, Any], client: flagkit.Client = CLIENT) -> dict[str, Any]:
    """Return every flag's (value, variant, reason, error code) for ``context``."""
    return {
        key: (d.value, d.variant, d.reason, d.error_code)
        for key, d in client.all_flags(context).items()
    }


def same(left: dict[str, tuple[Any, ...]], right: dict[str, tuple[Any, ...]]) -> bool:
    """Compare answers, NaN included (a NaN variant value is not equal to itself)."""
    return repr(left) == repr(right)


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
@pytest.mark.parametrize(("base", "value"), VALUES, ids=repr)
def test_a_torture_subclass_answers_as_its_value(base: type, value: Any, behaviour: Any) -> None:
    """Every rule (==, ===, in, sem_ver, fractional, arithmetic...) sees only the value."""
    for client in (CLIENT, V3):
        for attribute in ATTRIBUTES:
            expected = answers({"targetingKey": "user-7", attribute: value}, client)
            hostile = {"targetingKey": "user-7", attribute: torture(base, behaviour, value)}
            assert same(expected, answers(hostile, client)), attribute


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
def test_subclasses_inside_lists_and_objects_answer_as_their_values(behaviour: Any) -> None:
    """Items of a list (in, contains, merge, some, map) and fields of an object, by value."""
    items = ["beta", "NL", 5, 1.5, [1, 9]]
    hostile = [torture(type(item), behaviour, item) for item in items]
    for client in (CLIENT, V3):
        for plain_value, value in (
            (items, hostile),
            (items, torture(list, behaviour, hostile)),
            ({"id": "x"}, {"id": torture(str, behaviour, "x")}),
        ):
            for attribute in ("tags", "org", "email"):
                expected = answers({"targetingKey": "u", attribute: plain_value}, client)
                actual = answers({"targetingKey": "u", attribute: value}, client)
                assert same(expected, actual), (attribute, plain_value)


def test_a_liar_targeting_key_buckets_by_its_characters() -> None:
    """fractional hashes the key's own UTF-8 bytes, never what its methods claim."""
    for text in ("user-1", "x\ud800", "é"):
        assert same(answers({"targetingKey": text}), answers({"targetingKey": Liar(text)}))


def test_eq_that_always_answers_true_matches_nothing() -> None:
    """==, ===, in and sem_ver compare values: what agrees with everything matches nothing."""
    context = {
        "country": Agreeable(),
        "age": Agreeable(),
        "tags": [Agreeable()],
        "version": "2.0.0",
        "op": Agreeable(),
    }
    served = {
        key: CLIENT.get_details(key, None, context).variant
        for key in ("equals", "strict", "in-list", "in-var", "in-text", "contains", "semver-op")
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


@pytest.mark.parametrize("text", ["\u0660", "\u0661", "1\u0662", "\u0661e3", "0x\u0661"])
def test_numbers_are_read_with_ascii_digits_only(text: str) -> None:
    """Go's ParseFloat reads ASCII digits only (Python's float() reads any script's digits).

    Comparisons read such text as NaN (``javascript.ToNumber``), arithmetic
    as 0 (``typing.ToNumber``).
    """
    assert (True, 0.0) == (math.isnan(js_number(text)), to_number(text))
    assert -1.0 == compile_logic({"-": [{"var": "n"}, 1]}, flag_key="f")({"n": text})
    assert compile_logic({"<": [{"var": "n"}, 9]}, flag_key="f")({"n": text}) is False


def test_array_indexes_are_ascii_digits() -> None:
    """``tags.\\u0661`` is not index 1: Go reads an index that does not parse as 0, "²" too."""
    data = {"tags": ["a", "b"]}
    read = [
        compile_logic({"var": path}, flag_key="f")(data)
        for path in ("tags.1", "tags.\u0661", "tags.\u00b2")
    ]
    assert ["b", "a", "a"] == read


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
@pytest.mark.parametrize("value", ["user-1", 7, 2**70, 1.5, 2.0, ["a", 1], {"k": "v"}], ids=repr)
def test_cbor_encodes_a_subclass_as_its_value(value: Any, behaviour: Any) -> None:
    """fractional v3 hashes the CBOR of the value: a subclass encodes as the value it holds."""
    hostile = torture(type(value), behaviour, value)
    assert canonical_cbor(value) == canonical_cbor(hostile)
    with pytest.raises(ValueError, match=r"encode"):
        canonical_cbor(Liar("x\ud800"))
