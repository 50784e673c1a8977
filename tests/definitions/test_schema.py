"""The JSON Schema and the loader agree on what a flag document may say."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import flagkit
from flagkit._errors import DefinitionError
from flagkit._sources.pipeline import snapshot_from_data
from flagkit.testing import strategies as fks
from tests.helpers import examples

VALIDATOR = Draft202012Validator(flagkit.json_schema())


def schema_accepts(document: Any) -> bool:
    """Return True when the JSON Schema accepts ``document``."""
    return VALIDATOR.is_valid(document)


def loader_accepts(document: Any) -> bool:
    """Return True when the loader (pydantic and the cross-checks) accepts ``document``."""
    try:
        snapshot_from_data(copy.deepcopy(document), isolate=False)
    except DefinitionError:
        return False
    return True


def test_schema_is_valid_draft_2020_12() -> None:
    """The schema itself is a valid draft 2020-12 schema."""
    Draft202012Validator.check_schema(flagkit.json_schema())


@settings(max_examples=examples(100), deadline=None)
@given(document=fks.documents())
def test_valid_documents_pass_both(document: dict[str, Any]) -> None:
    """Every document the strategies generate (all valid) passes the schema and the loader."""
    assert (True, True) == (schema_accepts(document), loader_accepts(document))


def _document(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "segments": {"s": {"include": ["a"]}},
        "flags": {
            "f": {
                "variants": {"on": True, "off": False},
                "rules": [{"when": [condition], "serve": "on"}],
                "default": "off",
            }
        },
    }


_ABSENT = object()
# Operators that take any scalar operand: here the schema says all the loader checks.
_OPS = ["equals", "not_equals", "in", "not_in", "contains", "exists", "in_segment"]
_SLOTS = {
    "attribute": st.sampled_from([_ABSENT, None, "", "country", "org.id"]),
    "value": st.sampled_from([_ABSENT, None, "s", "NL", 3, True]),
    "values": st.sampled_from([_ABSENT, None, [], ["s"], ["NL", 3]]),
    "negate": st.sampled_from([_ABSENT, True, False]),
}


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    """Return conditions with every combination of present, absent, null and empty fields."""
    condition: dict[str, Any] = {"op": draw(st.sampled_from(_OPS))}
    for name, values in _SLOTS.items():
        value = draw(values)
        if value is not _ABSENT:
            condition[name] = value
    if condition["op"] == "in_segment":  # name the one segment: unknown names are cross-checks
        if condition.get("value") is not None:
            condition["value"] = "s"
        if condition.get("values"):
            condition["values"] = ["s"]
    return condition


@settings(max_examples=examples(400), deadline=None)
@given(condition=conditions())
def test_schema_and_loader_agree_on_conditions(condition: dict[str, Any]) -> None:
    """A condition is valid for the schema exactly when the loader accepts it."""
    document = _document(condition)
    assert schema_accepts(document) == loader_accepts(document)


@pytest.mark.parametrize(
    "condition",
    [
        {"op": "equals", "value": "NL"},  # no attribute
        {"op": "equals", "attribute": None, "value": "NL"},
        {"op": "equals", "attribute": "", "value": "NL"},
        {"op": "equals", "attribute": "country"},  # no operand
        {"op": "in", "attribute": "country", "values": []},
        {"op": "equals", "attribute": "country", "value": "NL", "values": ["BE"]},
        {"op": "in_segment"},
        {"op": "nope", "attribute": "country", "value": 1},
    ],
)
def test_invalid_conditions_fail_both(condition: dict[str, Any]) -> None:
    """Each structurally invalid condition is refused by the schema and by the loader."""
    document = _document(condition)
    assert (False, False) == (schema_accepts(document), loader_accepts(document))


@pytest.mark.parametrize(
    "condition",
    [
        {"op": "in_segment", "values": ["s"]},  # needs no attribute
        {"op": "exists", "attribute": "country"},  # needs no operand
        {"op": "equals", "attribute": "country", "value": "NL", "values": None},
    ],
)
def test_valid_conditions_pass_both(condition: dict[str, Any]) -> None:
    """The forms the format allows pass the schema and the loader."""
    document = _document(condition)
    assert (True, True) == (schema_accepts(document), loader_accepts(document))


@pytest.mark.parametrize(
    ("name", "document"),
    [
        (
            "unknown variant",
            {"flags": {"f": {"variants": {"on": True}, "default": "nope"}}},
        ),
        (
            "weights not adding up to 100",
            {
                "flags": {
                    "f": {
                        "variants": {"on": True, "off": False},
                        "default": {"rollout": {"weights": {"on": 10, "off": 10}}},
                    }
                }
            },
        ),
        (
            "unknown segment",
            _document({"op": "in_segment", "values": ["missing"]}),
        ),
        (
            "an unsafe pattern",
            _document({"op": "matches", "attribute": "email", "value": "(a+)+$"}),
        ),
    ],
)
def test_cross_references_are_the_loader_s_alone(name: str, document: dict[str, Any]) -> None:
    """What needs the whole document (names, sums, pattern safety) only the loader checks."""
    assert (True, False) == (schema_accepts(document), loader_accepts(document)), name
