"""Evaluation: reasons, error codes, rollouts, schedules and prerequisites."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

import flagkit
from flagkit import ErrorCode, Reason, bucket_of
from tests.conftest import EXAMPLE, MakeClient

BOOL = {"on": True, "off": False}


def test_example_kill_switch(example_client: flagkit.Client) -> None:
    """kill-switch is off: false, reason DISABLED."""
    details = example_client.get_bool_details("kill-switch", True, {"targetingKey": "u"})
    assert (details.value, details.variant, details.reason) == (False, "off", Reason.DISABLED)


def test_example_checkout_canary(example_client: flagkit.Client) -> None:
    """checkout-canary is true for exactly the keys whose bucket is below 1000."""
    for i in range(3000):
        key = f"user-{i}"
        details = example_client.get_bool_details("checkout-canary", False, {"targetingKey": key})
        assert details.reason == Reason.SPLIT
        assert details.bucket == bucket_of("checkout-canary", key)
        assert details.value is (bucket_of("checkout-canary", key) < 1000)


def test_example_pricing_test_follows_declared_order(example_client: flagkit.Client) -> None:
    """pricing-test: control below 5000, treatment-a below 7500, treatment-b above."""
    for i in range(3000):
        key = f"user-{i}"
        bucket = bucket_of("pricing-test", key)
        expected = "control" if bucket < 5000 else "treatment-a" if bucket < 7500 else "treatment-b"
        assert expected == example_client.get_str("pricing-test", "?", {"targetingKey": key})


@pytest.mark.parametrize(
    ("country", "plan", "expected", "reason"),
    [
        ("NL", "pro", True, Reason.TARGETING_MATCH),
        ("BE", "pro", True, Reason.TARGETING_MATCH),
        ("DE", "pro", False, Reason.DEFAULT),
        ("NL", "free", False, Reason.DEFAULT),
    ],
)
def test_example_beta_banner(
    example_client: flagkit.Client, country: str, plan: str, expected: bool, reason: Reason
) -> None:
    """beta-banner is on for pro customers in NL and BE only."""
    details = example_client.get_bool_details(
        "beta-banner", not expected, {"targetingKey": "u", "country": country, "plan": plan}
    )
    assert (expected, reason) == (details.value, details.reason)


def test_static_reason_for_untargeted_flag(example_client: flagkit.Client) -> None:
    """A flag with no rules and a fixed default is STATIC."""
    details = example_client.get_str_details("api-backend", "?", None)
    assert (details.value, details.reason) == ("blue", Reason.STATIC)


def test_rule_name_and_index_are_reported(make_client: MakeClient) -> None:
    """The matched rule is named, or identified by its index."""
    client = make_client(
        {
            "f": {
                "variants": BOOL,
                "rules": [
                    {"when": [{"attribute": "a", "op": "equals", "value": 1}], "serve": "off"},
                    {
                        "name": "second",
                        "when": [{"attribute": "a", "op": "equals", "value": 2}],
                        "serve": "on",
                    },
                    {"when": [{"attribute": "a", "op": "equals", "value": 2}], "serve": "off"},
                ],
                "default": "off",
            }
        }
    )
    assert client.get_details("f", None, {"a": 1}).rule == "rules[0]"
    assert client.get_details("f", None, {"a": 2}).rule == "second"
    assert client.get_details("f", None, {"a": 3}).rule is None


def test_rule_can_serve_a_rollout(make_client: MakeClient) -> None:
    """A rule's rollout reports SPLIT, the rule and the bucket."""
    client = make_client(
        {
            "f": {
                "variants": BOOL,
                "rules": [
                    {
                        "name": "eu",
                        "when": [{"attribute": "region", "op": "equals", "value": "eu"}],
                        "serve": {"rollout": {"weights": {"on": 50, "off": 50}}},
                    }
                ],
                "default": "off",
            }
        }
    )
    details = client.get_details("f", None, {"targetingKey": "k1", "region": "eu"})
    assert (Reason.SPLIT, "eu", bucket_of("f", "k1")) == (
        details.reason,
        details.rule,
        details.bucket,
    )


def test_disabled_without_off_variant_serves_caller_default(make_client: MakeClient) -> None:
    """A disabled flag with no off variant serves the caller's default."""
    client = make_client({"f": {"variants": BOOL, "default": "on", "enabled": False}})
    details = client.get_bool_details("f", True, {})
    assert (
        details.value,
        details.variant,
        details.reason,
        details.error_code,
    ) == (True, None, Reason.DISABLED, None)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.get_bool_details("missing", True, {}), ErrorCode.FLAG_NOT_FOUND),
        (lambda c: c.get_str_details("flag", "d", {}), ErrorCode.TYPE_MISMATCH),
        (lambda c: c.get_bool_details("split", True, {}), ErrorCode.TARGETING_KEY_MISSING),
        (
            lambda c: c.get_bool_details("split", True, {"targetingKey": 3.5}),
            ErrorCode.TARGETING_KEY_MISSING,
        ),
        (
            lambda c: c.get_bool_details("flag", True, ["not", "a", "mapping"]),
            ErrorCode.INVALID_CONTEXT,
        ),
    ],
)
def test_error_codes_serve_the_caller_default(
    make_client: MakeClient, call: Any, code: ErrorCode
) -> None:
    """Each error resolves to the caller's default with reason ERROR and a code."""
    client = make_client(
        {
            "flag": {"variants": BOOL, "default": "off"},
            "split": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        }
    )
    details = call(client)
    assert (Reason.ERROR, code, None) == (details.reason, details.error_code, details.variant)
    assert details.value in (True, "d")
    with pytest.raises(flagkit.EvaluationError, match=code.value):
        details.raise_for_error()


def test_general_error_when_evaluation_breaks(make_client: MakeClient) -> None:
    """A context whose mapping raises still yields a result, with GENERAL."""

    class Hostile(dict[str, Any]):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("boom")

    client = make_client(
        {
            "f": {
                "variants": BOOL,
                "rules": [{"when": [{"attribute": "a", "op": "exists"}], "serve": "on"}],
                "default": "off",
            }
        }
    )
    details = client.get_bool_details("f", True, Hostile())
    assert (
        details.value,
        details.reason,
        details.error_code,
    ) == (True, Reason.ERROR, ErrorCode.GENERAL)
    assert client.get_bool("f", True, Hostile()) is True


def test_rollout_by_attribute_moves_whole_organisations(make_client: MakeClient) -> None:
    """Bucketing by org.id gives every user of an organisation the same variant."""
    client = make_client(
        {
            "f": {
                "variants": BOOL,
                "default": {"rollout": {"by": "org.id", "weights": {"on": 50, "off": 50}}},
            }
        }
    )
    for org in range(50):
        seen = {
            client.get_bool("f", False, {"targetingKey": f"u{u}", "org": {"id": org}})
            for u in range(10)
        }
        assert len(seen) == 1
        assert seen == {bucket_of("f", str(org)) < 5000}


def test_shared_salt_puts_users_in_the_same_buckets(make_client: MakeClient) -> None:
    """Two flags with one salt agree user by user; without it they do not."""
    rollout = {"rollout": {"salt": "together", "weights": {"on": 30, "off": 70}}}
    client = make_client(
        {
            "a": {"variants": BOOL, "default": rollout},
            "b": {"variants": BOOL, "default": rollout},
            "c": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 30, "off": 70}}}},
        }
    )
    users = [{"targetingKey": f"user-{i}"} for i in range(2000)]
    assert all(client.get_bool("a", False, u) == client.get_bool("b", False, u) for u in users)
    assert not all(client.get_bool("a", False, u) == client.get_bool("c", False, u) for u in users)


def test_weights_have_hundredth_of_a_percent_granularity(make_client: MakeClient) -> None:
    """A 0.01% rollout serves exactly the users in bucket 0."""
    client = make_client(
        {"f": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 0.01, "off": 99.99}}}}}
    )
    for i in range(20000):
        key = f"u{i}"
        assert client.get_bool("f", False, {"targetingKey": key}) is (bucket_of("f", key) == 0)


def test_scheduled_ramp_follows_the_clock(
    example_client: flagkit.Client, make_client: MakeClient
) -> None:
    """The search-ramp canary is 0%, 1%, 10%, 50%, then 100% as time passes."""
    now = {"t": 0.0}
    client = flagkit.Client(flagkit.Client.from_file(EXAMPLE, clock=lambda: now["t"]).snapshot)
    points = [
        ("2026-11-30T00:00:00Z", 0.0),
        ("2026-12-01T09:00:00Z", 0.01),
        ("2026-12-04T00:00:00Z", 0.10),
        ("2026-12-06T00:00:00Z", 0.50),
        ("2026-12-09T00:00:00Z", 1.0),
    ]
    for when, share in points:
        now["t"] = dt.datetime.fromisoformat(when).timestamp()
        served = Counter(
            client.get_bool("search-ramp", False, {"targetingKey": f"user-{i}"})
            for i in range(20000)
        )
        assert abs(served[True] / 20000 - share) < 0.01, (when, served)


def test_prerequisites_gate_the_flag(example_client: flagkit.Client) -> None:
    """checkout-theme is fresh only where checkout-canary serves on."""
    for i in range(500):
        ctx = {"targetingKey": f"user-{i}"}
        canary = example_client.get_bool("checkout-canary", False, ctx)
        details = example_client.get_object_details("checkout-theme", {}, ctx)
        if canary:
            assert (details.variant, details.reason) == ("fresh", Reason.DEFAULT)
        else:
            assert (details.variant, details.reason) == ("classic", Reason.PREREQUISITE_FAILED)


def test_prerequisite_that_errors_counts_as_failed(example_client: flagkit.Client) -> None:
    """With no targeting key the canary errors, so the theme's prerequisite fails."""
    details = example_client.get_object_details("checkout-theme", {}, {})
    assert (details.variant, details.reason) == ("classic", Reason.PREREQUISITE_FAILED)


def test_object_values_are_copies(example_client: flagkit.Client) -> None:
    """Mutating a served object does not change the snapshot."""
    ctx = {"targetingKey": "user-1"}
    first = example_client.get_object("checkout-theme", {}, ctx)
    assert isinstance(first, dict)
    first["primary"] = "mutated"
    assert example_client.get_object("checkout-theme", {}, ctx)["primary"] != "mutated"


def test_float_getter_reads_int_flags_but_not_the_reverse(make_client: MakeClient) -> None:
    """Ints widen to floats; floats do not narrow to ints."""
    client = make_client(
        {
            "ints": {"variants": {"a": 1, "b": 2}, "default": "b"},
            "floats": {"variants": {"a": 1, "b": 2.5}, "default": "b"},
        }
    )
    assert client.get_float("ints", 0.0, {}) == 2
    assert client.get_int("ints", 0, {}) == 2
    assert client.get_float("floats", 0.0, {}) == 2.5
    assert client.get_int("floats", 7, {}) == 7
    assert client.get_int_details("floats", 7, {}).error_code == ErrorCode.TYPE_MISMATCH


def test_unencodable_bucketing_value_is_an_error_not_a_crash(
    example_client: flagkit.Client,
) -> None:
    """A lone surrogate (valid in json.loads output) cannot be hashed: ERROR, no crash."""
    details = example_client.get_str_details("pricing-test", "x", {"targetingKey": "\ud800"})
    assert ("x", ErrorCode.TARGETING_KEY_MISSING) == (details.value, details.error_code)
    details = example_client.get_str_details("pricing-test", "x", {"targetingKey": "é-user"})
    assert details.bucket == bucket_of("pricing-test", "é-user")


def test_unencodable_flag_key_or_salt_is_refused() -> None:
    """Flag keys and salts must be valid Unicode, or hashing them would be undefined."""
    rollout = {"rollout": {"salt": "s\udfff", "weights": {"on": 50, "off": 50}}}
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "k\ud800": {"variants": BOOL, "default": "on"},
                "f": {"variants": BOOL, "default": rollout},
            }
        }
    )
    assert ("f", "k\ud800") == client.status().refused
    messages = [p.message for p in client.status().problems]
    assert any("flag key is not valid Unicode" in m for m in messages)
    assert any("salt is not valid Unicode" in m for m in messages)


def test_huge_numbers_in_contexts_are_just_false_or_missing(make_client: MakeClient) -> None:
    """A huge int is a false condition or a missing key, never ERROR/GENERAL."""
    client = make_client(
        {
            "when": {
                "variants": BOOL,
                "rules": [
                    {
                        "when": [
                            {"attribute": "t", "op": "before", "value": "2030-01-01T00:00:00Z"}
                        ],
                        "serve": "on",
                    }
                ],
                "default": "off",
            },
            "split": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        }
    )
    details = client.get_bool_details("when", True, {"t": 10**400})
    assert (False, "DEFAULT") == (details.value, details.reason.value)
    assert (
        client.get_bool_details("split", True, {"targetingKey": 10**5000}).error_code
        == ErrorCode.TARGETING_KEY_MISSING
    )


def test_flags_of_one_shape_share_code_but_each_keeps_its_own_values() -> None:
    """Two rollouts of one shape run one code object with one globals dict, and bucket apart.

    Each flag's salt and bounds are its evaluators' own (closure values), so
    flags evaluated in turn never see each other's; the shared globals keep
    CPython's caches of ``type``, ``_hash``... valid from one flag to the next.
    """
    rollout = {"rollout": {"weights": {"on": 10, "off": 90}}}
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "low": {"variants": BOOL, "default": rollout},
                "high": {
                    "variants": BOOL,
                    "default": {"rollout": {"weights": {"on": 90, "off": 10}}},
                },
            }
        }
    )
    low, high = (client.snapshot.flags[key] for key in ("low", "high"))
    assert low.evaluate_fast.__code__ is high.evaluate_fast.__code__
    assert low.evaluate_fast.__globals__ is high.evaluate_fast.__globals__
    for i in range(2000):
        key = f"user-{i}"
        context = {"targetingKey": key}
        expected = (bucket_of("low", key, 10000) < 1000, bucket_of("high", key, 10000) < 9000)
        assert expected == (
            client.get_bool("low", False, context),
            client.get_bool("high", False, context),
        )
