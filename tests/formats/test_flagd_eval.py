"""Resolving compiled flagd flags: every reason and error code flagd documents."""

from __future__ import annotations

from typing import Any

import pytest

from flagkit._errors import DefinitionError
from flagkit.formats._problems import dotted
from flagkit.formats.flagd._compile import (
    FlagdResolution,
    compile_flagd_document,
    resolve_flagd_flag,
)

DOCUMENT: dict[str, Any] = {
    "flags": {
        "static-on": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
        "empty-targeting": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {},
        },
        "no-default": {"state": "ENABLED", "variants": {"a": "A", "b": "B"}},
        "no-default-targeted": {
            "state": "ENABLED",
            "variants": {"a": "A", "b": "B"},
            "defaultVariant": None,
            "targeting": {"if": [{"==": [{"var": "tier"}, "gold"]}, "b", None]},
        },
        "disabled": {
            "state": "DISABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
            "targeting": {"if": [True, "off"]},
        },
        "color": {
            "state": "ENABLED",
            "variants": {"red": "#FF0000", "blue": "#0000FF"},
            "defaultVariant": "red",
            "targeting": {
                "if": [
                    {"$ref": "internal"},
                    "blue",
                    {"==": [{"var": "tier"}, "free"]},
                    "nonexistent",
                    {"==": [{"var": "tier"}, "broken"]},
                    {"fractional": [{"var": "email"}, ["red", 1]]},
                    None,
                ]
            },
        },
        "boolean-result": {
            "state": "ENABLED",
            "variants": {"true": "yes", "false": "no"},
            "defaultVariant": "false",
            "targeting": {"ends_with": [{"var": "email"}, "@example.com"]},
        },
        "number-result": {
            "state": "ENABLED",
            "variants": {"1": 10, "2": 20},
            "defaultVariant": "1",
            "targeting": {"+": [{"var": "n"}, 1]},
        },
        "object-result": {
            "state": "ENABLED",
            "variants": {"a": {"x": 1}},
            "defaultVariant": "a",
            "targeting": {"merge": [["a"]]},
        },
    },
    "$evaluators": {"internal": {"ends_with": [{"var": "email"}, "@faas.com"]}},
    "metadata": {"flagSetId": "demo", "version": "1"},
}

FLAGS = compile_flagd_document(DOCUMENT)


def resolve(key: str, context: dict[str, Any] | None = None, **options: Any) -> FlagdResolution:
    """Resolve ``key`` from the shared document with the caller default ``DEFAULT``."""
    options.setdefault("default", "DEFAULT")
    return resolve_flagd_flag(FLAGS, key, context or {}, **options)


def test_static_flag() -> None:
    """A flag without targeting is STATIC with its default variant."""
    expected = FlagdResolution(True, "on", "STATIC")
    assert expected == resolve("static-on")


def test_static_flag_is_precomputed() -> None:
    """A flag without targeting returns one precomputed resolution every time."""
    assert resolve("static-on", {"a": 1}) is resolve("static-on", {"b": 2})


def test_empty_targeting_is_static() -> None:
    """``targeting: {}`` counts as no targeting."""
    expected = FlagdResolution(False, "off", "STATIC")
    assert expected == resolve("empty-targeting")


def test_no_default_variant_serves_the_caller_default() -> None:
    """Without targeting or defaultVariant the caller's default is served, reason DEFAULT."""
    expected = FlagdResolution("DEFAULT", None, "DEFAULT", uses_default=True)
    assert expected == resolve("no-default")


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"tier": "gold"}, FlagdResolution("B", "b", "TARGETING_MATCH")),
        ({"tier": "iron"}, FlagdResolution("fallback", None, "DEFAULT", uses_default=True)),
    ],
)
def test_null_targeting_without_default_variant(
    context: dict[str, Any], expected: FlagdResolution
) -> None:
    """Targeting returning null with no defaultVariant serves the caller's default."""
    assert expected == resolve("no-default-targeted", context, default="fallback")


def test_disabled_flag() -> None:
    """A disabled flag serves the caller's default with reason DISABLED, ignoring targeting."""
    expected = FlagdResolution("DEFAULT", None, "DISABLED", uses_default=True)
    assert expected == resolve("disabled", {"email": "x"})


def test_flag_not_found() -> None:
    """An unknown key is ERROR / FLAG_NOT_FOUND with the caller's default."""
    expected = FlagdResolution(
        "DEFAULT", None, "ERROR", "FLAG_NOT_FOUND", "flag 'missing' not found", uses_default=True
    )
    assert expected == resolve("missing")


def test_targeting_match_through_ref() -> None:
    """Targeting naming a variant is TARGETING_MATCH."""
    expected = FlagdResolution("#0000FF", "blue", "TARGETING_MATCH")
    assert expected == resolve("color", {"email": "ann@faas.com"})


def test_targeting_null_is_default() -> None:
    """Targeting returning null serves the default variant with reason DEFAULT."""
    expected = FlagdResolution("#FF0000", "red", "DEFAULT")
    assert expected == resolve("color", {"email": "ann@example.com"})


def test_targeting_naming_no_variant_is_general_error() -> None:
    """Targeting returning an unknown variant name is ERROR / GENERAL."""
    actual = resolve("color", {"tier": "free"})
    expected = ("DEFAULT", None, "ERROR", "GENERAL")
    assert expected == (actual.value, actual.variant, actual.reason, actual.error_code)


def test_targeting_result_of_wrong_shape_is_general_error() -> None:
    """Targeting returning an array names no variant: ERROR / GENERAL."""
    actual = resolve("object-result")
    expected = ("DEFAULT", "ERROR", "GENERAL")
    assert expected == (actual.value, actual.reason, actual.error_code)


def test_boolean_targeting_result_names_true_or_false() -> None:
    """A boolean targeting result selects the variant named "true" or "false"."""
    expected = [
        FlagdResolution("yes", "true", "TARGETING_MATCH"),
        FlagdResolution("no", "false", "TARGETING_MATCH"),
    ]
    actual = [
        resolve("boolean-result", {"email": "a@example.com"}),
        resolve("boolean-result", {"email": "a@elsewhere.org"}),
    ]
    assert expected == actual


def test_boolean_targeting_null_is_default() -> None:
    """``ends_with`` on a missing attribute is null, so the default variant is served."""
    expected = FlagdResolution("no", "false", "DEFAULT")
    assert expected == resolve("boolean-result", {})


def test_number_targeting_result_names_a_variant() -> None:
    """A numeric targeting result is spelled as JavaScript prints it to name a variant."""
    expected = [
        FlagdResolution(20, "2", "TARGETING_MATCH"),
        FlagdResolution(20, "2", "TARGETING_MATCH"),
    ]
    actual = [resolve("number-result", {"n": 1}), resolve("number-result", {"n": 1.0})]
    assert expected == actual


def test_runtime_failure_is_general_error() -> None:
    """A rule failing at runtime is ERROR / GENERAL with the caller's default."""
    actual = resolve("color", {"tier": "broken", "email": "\ud800"}, expected="string")
    expected = ("DEFAULT", None, "ERROR", "GENERAL")
    assert expected == (actual.value, actual.variant, actual.reason, actual.error_code)


@pytest.mark.parametrize(
    ("key", "expected_type"),
    [
        ("static-on", "string"),
        ("color", "boolean"),
        ("number-result", "boolean"),
        ("static-on", "integer"),
    ],
)
def test_type_mismatch(key: str, expected_type: Any) -> None:
    """A variant value of another type than the caller asked for is ERROR / TYPE_MISMATCH."""
    actual = resolve(key, {"n": 1}, expected=expected_type)
    expected = ("DEFAULT", None, "ERROR", "TYPE_MISMATCH")
    assert expected == (actual.value, actual.variant, actual.reason, actual.error_code)


@pytest.mark.parametrize(
    ("key", "expected_type"),
    [
        ("static-on", "boolean"),
        ("color", "string"),
        ("number-result", "integer"),
        ("number-result", "float"),
    ],
)
def test_type_match(key: str, expected_type: Any) -> None:
    """A variant of the asked-for type resolves normally."""
    assert resolve(key, {"n": 0}, expected=expected_type).error_code is None


def test_caller_default_is_never_type_checked() -> None:
    """Serving the caller's own default never reports TYPE_MISMATCH."""
    actual = resolve("no-default", default=3, expected="string")
    expected = FlagdResolution(3, None, "DEFAULT", uses_default=True)
    assert expected == actual


def test_metadata_merges_flag_set_and_flag() -> None:
    """Flag metadata overrides flag-set metadata key by key."""
    flags = compile_flagd_document(
        {
            "flags": {
                "f": {
                    "state": "ENABLED",
                    "variants": {"a": 1},
                    "metadata": {"version": "2", "team": "x"},
                }
            },
            "metadata": {"flagSetId": "s", "version": "1"},
        }
    )
    expected = {"flagSetId": "s", "version": "2", "team": "x"}
    assert expected == dict(flags.flags["f"].metadata)


def test_fractional_flag_resolves_by_targeting_key() -> None:
    """A fractional flag hashes flagKey + targetingKey and reports TARGETING_MATCH."""
    flags = compile_flagd_document(
        {
            "flags": {
                "split": {
                    "state": "ENABLED",
                    "variants": {"a": "A", "b": "B"},
                    "defaultVariant": "a",
                    "targeting": {"fractional": [["a", 50], ["b", 50]]},
                }
            }
        }
    )
    reasons = {
        resolve_flagd_flag(flags, "split", {"targetingKey": f"u{i}"}).reason for i in range(50)
    }
    no_key = resolve_flagd_flag(flags, "split", {})
    expected = ({"TARGETING_MATCH"}, FlagdResolution("A", "a", "DEFAULT"))
    assert expected == (reasons, no_key)


def test_timestamp_rule_uses_the_injected_clock() -> None:
    """``$flagd.timestamp`` reads the clock given at compile time."""
    document = {
        "flags": {
            "launch": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"if": [{">=": [{"var": "$flagd.timestamp"}, 1000]}, "on", "off"]},
            }
        }
    }
    now = [999.0]
    flags = compile_flagd_document(document, clock=lambda: now[0])
    before = resolve_flagd_flag(flags, "launch", {}).variant
    now[0] = 1000.5
    after = resolve_flagd_flag(flags, "launch", {}).variant
    expected = ("off", "on")
    assert expected == (before, after)


def test_isolated_problems_make_parse_errors() -> None:
    """With isolate_problems a broken flag resolves ERROR / PARSE_ERROR; the rest still work."""
    flags = compile_flagd_document(
        {
            "flags": {
                "good": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
                "bad": {"state": "ENABLED", "variants": {"on": True}, "targeting": {"nope": 1}},
            }
        },
        isolate_problems=True,
    )
    good = resolve_flagd_flag(flags, "good", {})
    bad = resolve_flagd_flag(flags, "bad", {}, default=False)
    expected = (
        FlagdResolution(True, "on", "STATIC"),
        (False, "ERROR", "PARSE_ERROR"),
        ["flags.bad.targeting"],
    )
    actual = (
        good,
        (bad.value, bad.reason, bad.error_code),
        [dotted(p.path) for p in flags.problems],
    )
    assert expected == actual


def test_isolate_mode_still_rejects_document_problems() -> None:
    """Document-level problems (here a broken shared evaluator) reject the whole document."""
    with pytest.raises(DefinitionError):
        compile_flagd_document(
            {"flags": {}, "$evaluators": {"x": {"nope": 1}}}, isolate_problems=True
        )
