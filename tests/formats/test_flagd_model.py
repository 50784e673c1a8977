"""Validation of flagd documents: the published schema, every problem located at once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit._errors import DefinitionError
from flagkit.formats._problems import dotted
from flagkit.formats.flagd._compile import compile_flagd_document
from flagkit.formats.flagd._model import FlagdFlag, plain_flags, validate_flagd_document
from tests.helpers import examples


def problems_of(document: Any) -> list[tuple[str, str]]:
    """Return the (dotted path, message) of every problem compiling ``document`` reports."""
    with pytest.raises(DefinitionError) as caught:
        compile_flagd_document(document, source="flags.json")
    return [(dotted(problem.path), problem.message) for problem in caught.value.problems]


def test_full_document_validates() -> None:
    """A document using every schema field validates into typed models."""
    document = validate_flagd_document(
        {
            "$schema": "https://flagd.dev/schema/v0/flags.json",
            "flags": {
                "banner": {
                    "state": "ENABLED",
                    "variants": {"on": True, "off": False},
                    "defaultVariant": "off",
                    "targeting": {"$ref": "internal"},
                    "metadata": {"owner": "web", "version": 3, "beta": True},
                }
            },
            "$evaluators": {"internal": {"ends_with": [{"var": "email"}, "@example.com"]}},
            "metadata": {"flagSetId": "web", "version": "1"},
        }
    )
    expected = FlagdFlag(
        state="ENABLED",
        variants={"on": True, "off": False},
        defaultVariant="off",
        targeting={"$ref": "internal"},
        metadata={"owner": "web", "version": 3, "beta": True},
    )
    assert expected == document.flags["banner"]


def test_omitted_state_variants_and_default() -> None:
    """State defaults to ENABLED, variants to the boolean pair, defaultVariant to none."""
    document = validate_flagd_document({"flags": {"f": {}}})
    expected = ("ENABLED", {"true": True, "false": False}, None)
    flag = document.flags["f"]
    assert expected == (flag.state, flag.variants, flag.default_variant)


def test_null_default_variant_is_allowed() -> None:
    """``defaultVariant: null`` means the caller's default."""
    document = validate_flagd_document(
        {"flags": {"f": {"state": "ENABLED", "variants": {"a": "A"}, "defaultVariant": None}}}
    )
    assert document.flags["f"].default_variant is None


@pytest.mark.parametrize(
    ("variants", "kind"),
    [
        ({"on": True, "off": False}, "boolean"),
        ({"a": "A", "b": "B"}, "string"),
        ({"one": 1, "half": 0.5}, "number"),
        ({"x": {"color": "red"}, "y": {}}, "object"),
    ],
)
def test_each_variant_type(variants: dict[str, Any], kind: str) -> None:
    """Variants of one type (boolean, string, number or object) are accepted."""
    document = validate_flagd_document({"flags": {"f": {"state": "ENABLED", "variants": variants}}})
    assert kind == document.flags["f"].kind


def test_every_problem_is_reported_at_once() -> None:
    """All problems across flags, fields and targeting come back together, located."""
    expected = [
        ("$evaluators.broken", "unknown operator 'bogus'"),
        (
            "flags.a.defaultVariant",
            "defaultVariant 'purple' names no variant (variants: blue, red)",
        ),
        (
            "flags.b.variants",
            "all variants of a flag must have one type, got boolean: on; string: off",
        ),
        ("flags.c.state", "Input should be 'ENABLED' or 'DISABLED'"),
        ("flags.d.targeting", "unknown operator 'bogus'"),
        ("flags.e.targeting", "Input should be a valid dictionary"),
        (
            "flags.f.metadata",
            "metadata values must be strings, numbers or booleans; not so for nested",
        ),
        ("flags.g.variants", "a flag needs at least one variant"),
        (
            "flags.h.variants",
            "variant 'big' must be finite and within +/-(2**53 - 1), got 9007199254740992",
        ),
        (
            "flags.i.variants",
            "variant 'list' must be a boolean, string, number or object, not list",
        ),
        ("flags.j.targeting.$ref", "$ref names no evaluator in $evaluators: 'nope'"),
        ("metadata", "metadata values must be strings, numbers or booleans; not so for bad"),
    ]
    actual = problems_of(
        {
            "flags": {
                "a": {
                    "state": "ENABLED",
                    "variants": {"red": "r", "blue": "b"},
                    "defaultVariant": "purple",
                },
                "b": {"state": "ENABLED", "variants": {"on": True, "off": "false"}},
                "c": {"state": "enabled", "variants": {"on": True}},
                "d": {"state": "ENABLED", "variants": {"on": True}, "targeting": {"bogus": []}},
                "e": {"state": "ENABLED", "variants": {"on": True}, "targeting": "on"},
                "f": {
                    "state": "ENABLED",
                    "variants": {"on": True},
                    "metadata": {"nested": {"a": 1}},
                },
                "g": {"state": "ENABLED", "variants": {}},
                "h": {"state": "ENABLED", "variants": {"big": 9007199254740992}},
                "i": {"state": "ENABLED", "variants": {"list": [1, 2]}},
                "j": {"state": "ENABLED", "variants": {"on": True}, "targeting": {"$ref": "nope"}},
            },
            "$evaluators": {"broken": {"bogus": ["x"]}},
            "metadata": {"bad": None},
        }
    )
    assert expected == actual


def test_error_message_names_the_file() -> None:
    """The error's message names the source file and each problem's location."""
    with pytest.raises(DefinitionError) as caught:
        compile_flagd_document({"flags": {"f": {"state": "ON"}}}, source="flags.json")
    assert "flags.json: flag 'f': state:" in str(caught.value)
    expected = "flags.json"
    assert expected == caught.value.source


@pytest.mark.parametrize(
    ("document", "location"),
    [
        ({}, "flags"),
        ({"flags": []}, "flags"),
        ({"flags": {"": {"state": "ENABLED"}}}, "flags"),
        ({"flags": {"f": "ENABLED"}}, "flags.f"),
        ({"flags": {"f": {"variants": {"": True}}}}, "flags.f.variants"),
        ({"flags": {}, "$evaluators": []}, "$evaluators"),
        ({"flags": {"f": {"defaultVariant": 1}}}, "flags.f.defaultVariant"),
        ([], "(document)"),
    ],
)
def test_shape_problems(document: Any, location: str) -> None:
    """Wrong shapes are located at the offending field."""
    assert location in [path for path, _ in problems_of(document)]


def test_unknown_flag_fields_are_ignored() -> None:
    """The schema leaves flag objects open, so unknown keys do not fail validation."""
    document = validate_flagd_document({"flags": {"f": {"state": "ENABLED", "source": "x"}}})
    expected = "ENABLED"
    assert expected == document.flags["f"].state


_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["ENABLED", "DISABLED", "on", "off", "", "x"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["on", "off", "", "x"]), st.booleans(), max_size=2),
    st.dictionaries(
        st.sampled_from(["on", "off", "x"]),
        st.one_of(st.integers(-5, 5), st.floats(-2, 2), st.text(max_size=2)),
        max_size=3,
    ),
)
_flags = st.dictionaries(
    st.sampled_from(["state", "variants", "defaultVariant", "targeting", "metadata", "other"]),
    _field_values,
    max_size=5,
)
_valid_flags = st.fixed_dictionaries(
    {
        "variants": st.one_of(
            st.dictionaries(st.sampled_from(["on", "off"]), st.booleans(), min_size=1),
            st.dictionaries(st.sampled_from(["a", "b"]), st.integers(-9, 9), min_size=1),
            st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=2), min_size=1),
        )
    },
    optional={
        "state": st.sampled_from(["ENABLED", "DISABLED"]),
        "defaultVariant": st.sampled_from([None, "on", "a", "b"]),
        "targeting": st.sampled_from([{}, {"var": "x"}, None]),
        "metadata": st.dictionaries(st.sampled_from(["k", "v"]), st.integers(0, 3)),
    },
)
_documents = st.fixed_dictionaries(
    {
        "flags": st.dictionaries(
            st.sampled_from(["a", "b", ""]), st.one_of(_flags, _valid_flags), max_size=3
        )
    },
    optional={
        "metadata": st.one_of(st.none(), st.dictionaries(st.text(max_size=2), _field_values)),
        "$evaluators": st.one_of(st.none(), st.dictionaries(st.text(max_size=2), st.booleans())),
        "$schema": st.one_of(st.none(), st.text(max_size=3), st.integers()),
    },
)


@settings(max_examples=examples(300), deadline=None)
@given(document=_documents)
def test_the_quick_check_accepts_only_what_the_models_accept(document: dict[str, Any]) -> None:
    """``plain_flags`` never accepts a document the pydantic models refuse, and reads it alike."""
    plain = plain_flags(document)
    if plain is None:
        return
    models = validate_flagd_document(document).flags
    assert set(models) == set(plain)
    for key, model in models.items():
        quick = plain[key]
        assert (model.state, model.variants, model.default_variant, model.metadata) == (
            quick.state,
            quick.variants,
            quick.default_variant,
            quick.metadata,
        )
