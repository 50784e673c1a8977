"""The type check follows the served value, as flagd's does, in both formats and on both paths."""

from __future__ import annotations

from typing import Any

import pytest

import flagkit
from flagkit import CountKey, ErrorCode, Reason

FLAGD = {
    "flags": {
        "off": {"state": "DISABLED", "variants": {"a": "x", "b": "y"}, "defaultVariant": "a"},
        "no-default": {"variants": {"a": "x", "b": "y"}},
        "no-default-targeted": {
            "variants": {"a": "x", "b": "y"},
            "targeting": {"if": [{"==": [{"var": "who"}, "me"]}, "a", None]},
        },
        "mixed": {
            "variants": {"one": 1, "half": 1.5},
            "defaultVariant": "one",
            "targeting": {"if": [{"var": "half"}, "half", "one"]},
        },
        "static-one": {"variants": {"one": 1.0, "half": 1.5}, "defaultVariant": "one"},
    }
}

NATIVE = {
    "flags": {
        "off": {"enabled": False, "variants": {"a": "x", "b": "y"}, "default": "a"},
        "off-with-variant": {
            "enabled": False,
            "off_variant": "b",
            "variants": {"a": "x", "b": "y"},
            "default": "a",
        },
        "ratio": {"variants": {"whole": 2.0, "half": 0.5}, "default": "whole"},
        "half": {"variants": {"whole": 2.0, "half": 0.5}, "default": "half"},
    }
}


def _clients(document: dict[str, Any], format: str) -> list[flagkit.Client]:
    """Return clients over ``document`` on the fast path, with counters, and observed (a hook)."""
    return [
        flagkit.Client.from_dict(document, format=format),  # type: ignore[arg-type]
        flagkit.Client.from_dict(document, format=format, counters=True),  # type: ignore[arg-type]
        flagkit.Client.from_dict(document, format=format, hooks=[flagkit.Hook()]),  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("key", "getter", "context", "expected"),
    [
        ("off", "get_bool_details", {}, (True, None, Reason.DISABLED, None)),
        ("off", "get_int_details", {}, (True, None, Reason.DISABLED, None)),
        ("no-default", "get_object_details", {}, (True, None, Reason.DEFAULT, None)),
        ("no-default-targeted", "get_bool_details", {}, (True, None, Reason.DEFAULT, None)),
        (
            "no-default-targeted",
            "get_bool_details",
            {"who": "me"},
            (True, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH),
        ),
        ("mixed", "get_int_details", {}, (1, "one", Reason.TARGETING_MATCH, None)),
        (
            "mixed",
            "get_int_details",
            {"half": True},
            (True, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH),
        ),
        ("mixed", "get_float_details", {"half": True}, (1.5, "half", Reason.TARGETING_MATCH, None)),
        ("static-one", "get_int_details", {}, (1, "one", Reason.STATIC, None)),
    ],
)
def test_flagd_type_check_follows_the_served_value(
    key: str, getter: str, context: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    """Disabled and default outcomes ignore the getter's type; numbers are checked as served."""
    client = flagkit.Client.from_dict(FLAGD, format="flagd")
    details = getattr(client, getter)(key, True, context)
    assert expected == (details.value, details.variant, details.reason, details.error_code)


@pytest.mark.parametrize(
    ("key", "getter", "context", "value", "count"),
    [
        ("off", "get_bool", {}, True, CountKey("off", None, "DISABLED")),
        ("no-default", "get_object", {}, True, CountKey("no-default", None, "DEFAULT")),
        ("mixed", "get_int", {}, 1, CountKey("mixed", "one", "TARGETING_MATCH")),
        (
            "mixed",
            "get_int",
            {"half": True},
            True,
            CountKey("mixed", None, "ERROR", "TYPE_MISMATCH"),
        ),
        ("static-one", "get_int", {}, 1, CountKey("static-one", "one", "STATIC")),
        ("missing", "get_int", {}, True, CountKey("missing", None, "ERROR", "FLAG_NOT_FOUND")),
    ],
)
def test_typed_getters_serve_and_count_as_the_details_do(
    key: str, getter: str, context: dict[str, Any], value: Any, count: CountKey
) -> None:
    """The fast path, the fast path with counters, and the observed path give one answer."""
    plain, counting, observed = _clients(FLAGD, "flagd")
    for client in (plain, counting, observed):
        served = getattr(client, getter)(key, True, context)
        assert (value, type(value)) == (served, type(served))
    assert {count: 1} == counting.counters()


@pytest.mark.parametrize(
    ("key", "getter", "expected"),
    [
        ("off", "get_bool_details", (False, None, Reason.DISABLED, None)),
        ("off", "get_str_details", (False, None, Reason.DISABLED, None)),
        (
            "off-with-variant",
            "get_bool_details",
            (False, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH),
        ),
        ("off-with-variant", "get_str_details", ("y", "b", Reason.DISABLED, None)),
        ("ratio", "get_int_details", (2, "whole", Reason.STATIC, None)),
        ("half", "get_int_details", (False, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH)),
    ],
)
def test_native_documents_follow_the_same_rule(
    key: str, getter: str, expected: tuple[Any, ...]
) -> None:
    """A native flag with no value to serve ignores the getter's type; a value is checked."""
    for client in _clients(NATIVE, "native"):
        details = getattr(client, getter)(key, False)
        assert expected == (details.value, details.variant, details.reason, details.error_code)
        assert expected[0] == getattr(client, getter.removesuffix("_details"))(key, False)
