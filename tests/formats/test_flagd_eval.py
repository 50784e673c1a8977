"""Resolving flagd flags through the Client: every reason and error code flagd documents."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit._errors import DefinitionError
from flagkit.formats.flagd._compile import compile_flagd_document
from tests.formats.flagd_resolve import Resolved, flagd_client
from tests.formats.flagd_resolve import resolve as resolve_in

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
                    {"cat": [{"var": "email"}, True]},
                    {"==": [{"var": "tier"}, "unencodable"]},
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

CLIENT = flagd_client(DOCUMENT)


def resolve(key: str, context: dict[str, Any] | None = None, **options: Any) -> Resolved:
    """Resolve ``key`` from the shared document with the caller default ``DEFAULT``."""
    return resolve_in(CLIENT, key, context, **options)


def test_static_flag() -> None:
    """A flag without targeting is STATIC with its default variant."""
    expected = Resolved(True, "on", "STATIC")
    assert expected == resolve("static-on")


def test_static_flag_is_precomputed() -> None:
    """A flag without targeting has one precomputed resolution, read without a call."""
    flag = CLIENT.snapshot.flags["static-on"]
    assert flag.constant is not None
    assert flag.constant is flag.evaluate({"a": 1})[0]


def test_empty_targeting_is_static() -> None:
    """``targeting: {}`` counts as no targeting."""
    expected = Resolved(False, "off", "STATIC")
    assert expected == resolve("empty-targeting")


def test_no_default_variant_serves_the_caller_default() -> None:
    """Without targeting or defaultVariant the caller's default is served, reason DEFAULT."""
    expected = Resolved("DEFAULT", None, "DEFAULT")
    assert expected == resolve("no-default")


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"tier": "gold"}, Resolved("B", "b", "TARGETING_MATCH")),
        ({"tier": "iron"}, Resolved("fallback", None, "DEFAULT")),
    ],
)
def test_null_targeting_without_default_variant(
    context: dict[str, Any], expected: Resolved
) -> None:
    """Targeting returning null with no defaultVariant serves the caller's default."""
    assert expected == resolve("no-default-targeted", context, default="fallback")


def test_disabled_flag() -> None:
    """A disabled flag serves the caller's default with reason DISABLED, ignoring targeting."""
    expected = Resolved("DEFAULT", None, "DISABLED")
    assert expected == resolve("disabled", {"email": "x"})


def test_flag_not_found() -> None:
    """An unknown key is ERROR / FLAG_NOT_FOUND with the caller's default."""
    expected = Resolved("DEFAULT", None, "ERROR", "FLAG_NOT_FOUND")
    assert expected == resolve("missing")


def test_targeting_match_through_ref() -> None:
    """Targeting naming a variant is TARGETING_MATCH."""
    expected = Resolved("#0000FF", "blue", "TARGETING_MATCH")
    assert expected == resolve("color", {"email": "ann@faas.com"})


def test_targeting_null_is_default() -> None:
    """Targeting returning null serves the default variant with reason DEFAULT."""
    expected = Resolved("#FF0000", "red", "DEFAULT")
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
        Resolved("yes", "true", "TARGETING_MATCH"),
        Resolved("no", "false", "TARGETING_MATCH"),
    ]
    actual = [
        resolve("boolean-result", {"email": "a@example.com"}),
        resolve("boolean-result", {"email": "a@elsewhere.org"}),
    ]
    assert expected == actual


def test_boolean_targeting_null_is_default() -> None:
    """``ends_with`` on a missing attribute is null, so the default variant is served."""
    expected = Resolved("no", "false", "DEFAULT")
    assert expected == resolve("boolean-result", {})


def test_number_targeting_result_names_a_variant() -> None:
    """A numeric targeting result is spelled as JavaScript prints it to name a variant."""
    expected = [
        Resolved(20, "2", "TARGETING_MATCH"),
        Resolved(20, "2", "TARGETING_MATCH"),
    ]
    actual = [resolve("number-result", {"n": 1}), resolve("number-result", {"n": 1.0})]
    assert expected == actual


class _EmailRaises(dict[str, Any]):
    """A context whose ``email`` cannot be read."""

    def get(self, key: str, default: Any = None) -> Any:
        if key == "email":
            raise RuntimeError("no email today")
        return super().get(key, default)


def test_runtime_failure_is_general_error() -> None:
    """A rule failing at runtime is ERROR / GENERAL with the caller's default, named."""
    actual = CLIENT.get_str_details("color", "DEFAULT", _EmailRaises(tier="broken"))
    expected = ("DEFAULT", None, "ERROR", "GENERAL")
    assert expected == (actual.value, actual.variant, actual.reason.value, actual.error_code)
    assert "RuntimeError: no email today" in (actual.error_message or "")


def test_a_go_panic_at_run_time_is_a_parse_error() -> None:
    """What Go's engine panics on (``cat`` of a boolean) is ERROR / PARSE_ERROR, as in flagd."""
    actual = resolve("color", {"tier": "broken", "email": "a"}, expected="string")
    expected = ("DEFAULT", None, "ERROR", "PARSE_ERROR")
    assert expected == (actual.value, actual.variant, actual.reason, actual.error_code)


def test_an_unencodable_bucketing_value_counts_as_missing() -> None:
    """A lone surrogate has no UTF-8 bytes to hash: fractional is null, the default serves."""
    actual = resolve("color", {"tier": "unencodable", "email": "\ud800"}, expected="string")
    expected = ("#FF0000", "red", "DEFAULT", None)
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
    expected = Resolved(3, None, "DEFAULT")
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
    client = flagd_client(
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
    reasons = {resolve_in(client, "split", {"targetingKey": f"u{i}"}).reason for i in range(50)}
    no_key = resolve_in(client, "split", {})
    expected = ({"TARGETING_MATCH"}, Resolved("A", "a", "DEFAULT"))
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
    client = flagd_client(document, clock=lambda: now[0])
    before = resolve_in(client, "launch", {}).variant
    now[0] = 1000.5
    after = resolve_in(client, "launch", {}).variant
    expected = ("off", "on")
    assert expected == (before, after)


def test_isolate_mode_still_rejects_document_problems() -> None:
    """Document-level problems (here flag-set metadata) reject the whole document."""
    with pytest.raises(DefinitionError):
        compile_flagd_document({"flags": {}, "metadata": {"x": [1]}}, isolate_problems=True)


def test_a_broken_shared_evaluator_refuses_only_the_flags_using_it() -> None:
    """An unknown operator in ``$evaluators`` refuses the flags that ``$ref`` it, no others."""
    flag = {"variants": {"a": "a", "b": "b"}, "defaultVariant": "a"}
    flag_set = compile_flagd_document(
        {
            "$evaluators": {"bad": {"nope": 1}, "unused": {"nope": 2}},
            "flags": {
                "uses": {**flag, "targeting": {"if": [{"$ref": "bad"}, "b", "a"]}},
                "fine": flag,
            },
        },
        isolate_problems=True,
    )
    assert flag_set.flags["uses"].problem is not None
    assert "$evaluators.bad" in flag_set.flags["uses"].problem
    assert flag_set.flags["fine"].problem is None
    assert {"$evaluators"} == {p.path[0] for p in flag_set.problems}


def test_a_context_array_is_a_fractional_bucket_as_in_go(tmp_path: Path) -> None:
    """An array in the context, first argument of fractional, is a bucket (Go evaluates first)."""
    path = tmp_path / "f.json"
    path.write_text(
        json.dumps(
            {
                "flags": {
                    "f": {
                        "state": "ENABLED",
                        "variants": {"on": "on", "off": "off"},
                        "defaultVariant": "off",
                        "targeting": {"fractional": [{"var": "a"}, ["on", 50], ["off", 50]]},
                    }
                }
            }
        )
    )
    client = flagkit.Client.from_file(path, format="flagd")
    served = Counter(
        client.get_str("f", "?", {"a": ["on", 1000000], "targetingKey": f"u{i}"})
        for i in range(200)
    )
    # Go flagd evaluates the arguments first: an array from the context is a
    # bucket like any other (here 1000000 to 1 against "on"), and the
    # bucketing value falls back to the flag key and the targeting key.
    assert {"on": 200} == dict(served)


_SURROGATE_SCRIPT = r"""
import json, sys
import flagkit
path = sys.argv[1]
for hashing in ("v2", "v3"):
    client = flagkit.Client.from_file(path, format="flagd", flagd_hashing=hashing)
    for key in client.flag_keys():
        for context in ({"targetingKey": "u"}, {"targetingKey": "\ud800"}, {"email": "\udfff"}):
            details = client.get_str_details(key, "fallback", context)
            print(hashing, ascii(key), details.value, details.reason.value)
"""


def test_a_lone_surrogate_in_a_flag_key_never_crashes(tmp_path: Path) -> None:
    """Issue 17: a flagd key like "k\\ud800" with a fractional rule never crashes (subprocess).

    mmh3 would crash the interpreter on an unencodable string; flagkit hashes
    only bytes it encoded, so the evaluation serves the default variant and the
    process exits cleanly.
    """
    flag = {
        "state": "ENABLED",
        "variants": {"on": "on", "off": "off"},
        "defaultVariant": "off",
    }
    document = {
        "flags": {
            "k\ud800": {**flag, "targeting": {"fractional": [["on", 50], ["off", 50]]}},
            "by-email\udfff": {
                **flag,
                "targeting": {"fractional": [{"var": "email"}, ["on", 50], ["off", 50]]},
            },
            "nested\ud800": {**flag, "targeting": {"if": [True, {"fractional": [["on", 1]]}]}},
        }
    }
    path = tmp_path / "surrogate.json"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON escapes the surrogates
    done = subprocess.run(
        [sys.executable, "-c", _SURROGATE_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    lines = done.stdout.splitlines()
    assert 2 * 3 * 3 == len(lines)
    assert all(line.endswith(("off DEFAULT", "on TARGETING_MATCH")) for line in lines)
    assert all(line.endswith("off DEFAULT") for line in lines if "'k\\ud800'" in line)
