"""Typed getters, details, all-flags, and never raising."""

from __future__ import annotations

from typing import Any

import pytest

import flagkit
from flagkit import ErrorCode, Reason


def test_typed_getters_return_values(example_client: flagkit.Client) -> None:
    """Each typed getter returns the flag's value for its type."""
    ctx = {"targetingKey": "user-1", "country": "NL", "plan": "pro"}
    assert example_client.get_bool("beta-banner", False, ctx) is True
    assert example_client.get_str("api-backend", "?", ctx) == "blue"
    assert example_client.get_object("checkout-theme", {}, ctx) == {
        "primary": "#0055aa",
        "rounded": False,
    }


def test_int_and_float_getters() -> None:
    """Int flags read as ints and (widened) floats; floats only as floats."""
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "limit": {"variants": {"low": 10, "high": 100}, "default": "high"},
                "ratio": {"variants": {"a": 0.5}, "default": "a"},
            }
        }
    )
    assert client.get_int("limit", 0) == 100
    value = client.get_float("limit", 0.0)
    assert (100.0, float) == (value, type(value))
    assert client.get_float_details("limit", 0.0).value == 100.0
    assert type(client.get_float_details("limit", 0.0).value) is float
    assert client.get_float("ratio", 0.0) == 0.5
    assert client.get_int("ratio", 3) == 3


@pytest.mark.parametrize(
    "context", [["a", "list"], "a string", 42, object()], ids=["list", "str", "int", "object"]
)
def test_non_mapping_context_gives_the_default_everywhere(
    example_client: flagkit.Client, context: Any
) -> None:
    """A context that is not a mapping is INVALID_CONTEXT, even for flags that ignore context."""
    assert example_client.get_bool("kill-switch", True, context) is True
    details = example_client.get_bool_details("kill-switch", True, context)
    assert (True, Reason.ERROR, ErrorCode.INVALID_CONTEXT) == (
        details.value,
        details.reason,
        details.error_code,
    )


def test_type_mismatch_never_raises(example_client: flagkit.Client) -> None:
    """Asking a string flag for a bool returns the default with TYPE_MISMATCH."""
    assert example_client.get_bool("pricing-test", True, {"targetingKey": "u"}) is True
    details = example_client.get_int_details("pricing-test", 7, {"targetingKey": "u"})
    assert (7, ErrorCode.TYPE_MISMATCH) == (details.value, details.error_code)
    with pytest.raises(flagkit.EvaluationError, match="TYPE_MISMATCH"):
        details.raise_for_error()


def test_details_carry_rule_and_bucket(example_client: flagkit.Client) -> None:
    """Details name the matched rule, or the bucket of a rollout."""
    rule = example_client.get_bool_details("beta-banner", False, {"country": "BE", "plan": "pro"})
    split = example_client.get_str_details("pricing-test", "?", {"targetingKey": "user-1"})
    assert ("benelux-pro", None) == (rule.rule, rule.bucket)
    assert (None, flagkit.bucket_of("pricing-test", "user-1")) == (split.rule, split.bucket)
    assert split.raise_for_error() is split


def test_all_flags_for_one_context(example_client: flagkit.Client) -> None:
    """all_flags returns every flag's details for one context."""
    everything = example_client.all_flags(
        {"targetingKey": "user-1", "country": "NL", "plan": "pro"}
    )
    assert set(example_client.flag_keys()) == set(everything)
    assert everything["beta-banner"].value is True
    assert everything["kill-switch"].reason == Reason.DISABLED
    assert {k: d.to_dict()["value"] for k, d in everything.items()}["api-backend"] == "blue"
    broken = example_client.all_flags(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert {ErrorCode.INVALID_CONTEXT} == {d.error_code for d in broken.values()}


def test_variant_of(example_client: flagkit.Client) -> None:
    """variant_of names the served variant, or None on a problem."""
    assert example_client.variant_of("beta-banner", {"country": "NL", "plan": "pro"}) == "on"
    assert example_client.variant_of("missing") is None


def test_empty_client_serves_defaults() -> None:
    """A client with no flags returns defaults with FLAG_NOT_FOUND."""
    client = flagkit.Client()
    assert client.get_str("anything", "fallback") == "fallback"
    assert client.get_details("anything", 1).error_code == ErrorCode.FLAG_NOT_FOUND
    assert client.status().flags == 0
