"""Every condition operator, including negation, nesting and wrong types."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

import pytest

import flagkit
from flagkit import Reason
from tests.conftest import MakeClient

BOOL = {"on": True, "off": False}


def _client(make_client: MakeClient, condition: dict[str, Any]) -> Any:
    return make_client(
        {
            "f": {
                "variants": {"on": True, "off": False},
                "rules": [{"when": [condition], "serve": "on"}],
                "default": "off",
            }
        }
    )


CASES: list[tuple[dict[str, Any], Any, bool]] = [
    ({"attribute": "a", "op": "equals", "value": "x"}, "x", True),
    ({"attribute": "a", "op": "equals", "value": "x"}, "y", False),
    ({"attribute": "a", "op": "equals", "value": 3}, 3.0, True),
    ({"attribute": "a", "op": "equals", "value": 1}, True, False),
    ({"attribute": "a", "op": "equals", "value": True}, 1, False),
    ({"attribute": "a", "op": "equals", "value": True}, True, True),
    ({"attribute": "a", "op": "not_equals", "value": "x"}, "y", True),
    ({"attribute": "a", "op": "not_equals", "value": "x"}, "x", False),
    ({"attribute": "a", "op": "not_equals", "value": "x"}, 5, False),
    ({"attribute": "a", "op": "in", "values": ["NL", "BE"]}, "BE", True),
    ({"attribute": "a", "op": "in", "values": ["NL", "BE"]}, "DE", False),
    ({"attribute": "a", "op": "in", "values": ["NL", 1]}, 1, True),
    ({"attribute": "a", "op": "in", "values": [1, 2]}, True, False),
    ({"attribute": "a", "op": "in", "values": ["x"]}, ["x"], False),
    ({"attribute": "a", "op": "in", "values": ["x"]}, {"x": 1}, False),
    ({"attribute": "a", "op": "not_in", "values": ["NL", "BE"]}, "DE", True),
    ({"attribute": "a", "op": "not_in", "values": ["NL", "BE"]}, "NL", False),
    ({"attribute": "a", "op": "contains", "value": "ell"}, "hello", True),
    ({"attribute": "a", "op": "contains", "value": "xyz"}, "hello", False),
    ({"attribute": "a", "op": "contains", "value": "beta"}, ["alpha", "beta"], True),
    ({"attribute": "a", "op": "contains", "value": 3}, [1, 2, 3], True),
    ({"attribute": "a", "op": "contains", "value": "x"}, 42, False),
    ({"attribute": "a", "op": "starts_with", "value": "user-"}, "user-9", True),
    ({"attribute": "a", "op": "starts_with", "values": ["a", "b"]}, "bob", True),
    ({"attribute": "a", "op": "starts_with", "value": "user-"}, "admin", False),
    ({"attribute": "a", "op": "ends_with", "value": "@example.com"}, "x@example.com", True),
    ({"attribute": "a", "op": "ends_with", "value": "@example.com"}, "x@example.org", False),
    ({"attribute": "a", "op": "matches", "value": "^[a-z]+-[0-9]+$"}, "user-12", True),
    ({"attribute": "a", "op": "matches", "value": "^[a-z]+-[0-9]+$"}, "User-12", False),
    ({"attribute": "a", "op": "matches", "value": "[0-9]"}, "x" * 5000 + "1", False),
    ({"attribute": "a", "op": "lt", "value": 10}, 9.5, True),
    ({"attribute": "a", "op": "lt", "value": 10}, 10, False),
    ({"attribute": "a", "op": "lte", "value": 10}, 10, True),
    ({"attribute": "a", "op": "gt", "value": 10}, 11, True),
    ({"attribute": "a", "op": "gt", "value": 10}, "11", False),
    ({"attribute": "a", "op": "gt", "value": 0}, True, False),
    ({"attribute": "a", "op": "gte", "value": 10}, 10, True),
    ({"attribute": "a", "op": "gte", "value": 10}, 9, False),
    ({"attribute": "a", "op": "semver_eq", "value": "1.2.0"}, "v1.2", True),
    ({"attribute": "a", "op": "semver_lt", "value": "2.0.0"}, "1.10.3", True),
    ({"attribute": "a", "op": "semver_lt", "value": "1.0.0"}, "1.0.0-rc.1", True),
    ({"attribute": "a", "op": "semver_lte", "value": "1.0.0"}, "1.0.0", True),
    ({"attribute": "a", "op": "semver_gt", "value": "1.9.0"}, "1.10.0", True),
    ({"attribute": "a", "op": "semver_gt", "value": "1.0.0-alpha.2"}, "1.0.0-alpha.10", True),
    ({"attribute": "a", "op": "semver_gt", "value": "1.0.0-alpha"}, "1.0.0-alpha.1", True),
    ({"attribute": "a", "op": "semver_gte", "value": "2.0.0"}, "1.99.99", False),
    ({"attribute": "a", "op": "semver_gte", "value": "2.0.0"}, "not-a-version", False),
    ({"attribute": "a", "op": "semver_gte", "value": "2.0.0"}, 3, False),
    (
        {"attribute": "a", "op": "before", "value": "2026-01-01T00:00:00Z"},
        "2025-12-31T23:59:59Z",
        True,
    ),
    (
        {"attribute": "a", "op": "before", "value": "2026-01-01T00:00:00Z"},
        "2026-01-01T00:00:00Z",
        False,
    ),
    ({"attribute": "a", "op": "after", "value": "2026-01-01T00:00:00Z"}, 1767225601, True),
    (
        {"attribute": "a", "op": "after", "value": "2026-01-01T00:00:00+01:00"},
        "2025-12-31T23:30:00Z",
        True,
    ),
    ({"attribute": "a", "op": "after", "value": "2026-01-01T00:00:00Z"}, "yesterday", False),
    ({"attribute": "a", "op": "exists"}, "anything", True),
    ({"attribute": "a", "op": "exists"}, None, False),
    ({"attribute": "a", "op": "exists", "negate": True}, None, True),
    ({"attribute": "a", "op": "equals", "value": "x", "negate": True}, "y", True),
    ({"attribute": "a", "op": "equals", "value": "x", "negate": True}, 7, False),
    ({"attribute": "a", "op": "not_in", "values": ["x"], "negate": True}, "x", True),
    ({"attribute": "a", "op": "lt", "value": 5, "negate": True}, 7, True),
    ({"attribute": "a", "op": "lt", "value": 5, "negate": True}, "7", False),
    ({"attribute": "a", "op": "matches", "value": "^x", "negate": True}, "yx", True),
]


@pytest.mark.parametrize(("condition", "value", "expected"), CASES)
def test_operator(
    make_client: MakeClient, condition: dict[str, Any], value: Any, expected: bool
) -> None:
    """Each operator holds exactly when it should, and never raises."""
    client = _client(make_client, condition)
    context = {"targetingKey": "k"} if value is None else {"targetingKey": "k", "a": value}
    assert expected == client.get_bool("f", not expected and False, context)


def test_missing_attribute_is_false_even_when_negated(make_client: MakeClient) -> None:
    """A missing attribute makes any condition but exists false, negated or not."""
    for op, operand in [("equals", "x"), ("not_in", ["x"]), ("lt", 3), ("matches", "x")]:
        key = "values" if isinstance(operand, list) else "value"
        for negate in (False, True):
            client = _client(
                make_client, {"attribute": "a", "op": op, key: operand, "negate": negate}
            )
            assert client.get_bool("f", True, {"targetingKey": "k"}) is False


def test_nested_attribute_and_targeting_key(make_client: MakeClient) -> None:
    """Dotted attributes read nested mappings; 'targetingKey' reads the key."""
    client = _client(make_client, {"attribute": "org.plan", "op": "equals", "value": "pro"})
    assert client.get_bool("f", False, {"org": {"plan": "pro"}}) is True
    assert client.get_bool("f", False, {"org": "pro"}) is False
    assert client.get_bool("f", False, {"org": {"plan": {"deep": 1}}}) is False
    keyed = _client(
        make_client, {"attribute": "targetingKey", "op": "starts_with", "value": "vip-"}
    )
    assert keyed.get_bool("f", False, {"targetingKey": "vip-1"}) is True


def test_in_with_100k_values_is_a_set_lookup(make_client: MakeClient) -> None:
    """A 100,000-value 'in' list compiles to a set: lookups stay cheap."""
    values = [f"user-{i}" for i in range(100_000)]
    client = _client(make_client, {"attribute": "targetingKey", "op": "in", "values": values})
    assert client.get_bool("f", False, {"targetingKey": "user-99999"}) is True
    assert client.get_bool("f", False, {"targetingKey": "user-100000"}) is False


def test_segment_include_exclude_and_rules(make_client: MakeClient) -> None:
    """Segments: exclude wins, then include, then the segment's rules."""
    client = make_client(
        {
            "f": {
                "variants": {"on": True, "off": False},
                "rules": [{"when": [{"op": "in_segment", "values": ["staff"]}], "serve": "on"}],
                "default": "off",
            },
            "g": {
                "variants": {"on": True, "off": False},
                "rules": [
                    {
                        "when": [{"op": "in_segment", "values": ["staff"], "negate": True}],
                        "serve": "on",
                    }
                ],
                "default": "off",
            },
        },
        segments={
            "staff": {
                "include": ["alice", "bob"],
                "exclude": ["bob", "eve"],
                "rules": [
                    {"when": [{"attribute": "email", "op": "ends_with", "value": "@corp.io"}]}
                ],
            }
        },
    )
    assert client.get_details("f", None, {"targetingKey": "alice"}).reason == Reason.TARGETING_MATCH
    assert client.get_bool("f", True, {"targetingKey": "bob"}) is False
    assert client.get_bool("f", True, {"targetingKey": "eve", "email": "eve@corp.io"}) is False
    assert client.get_bool("f", False, {"targetingKey": "zed", "email": "zed@corp.io"}) is True
    assert client.get_bool("g", False, {"targetingKey": "zed"}) is True
    assert client.get_bool("g", True, {"targetingKey": "alice"}) is False


def test_segment_by_attribute(make_client: MakeClient) -> None:
    """A segment can list organisations instead of users."""
    client = make_client(
        {
            "f": {
                "variants": {"on": True, "off": False},
                "rules": [{"when": [{"op": "in_segment", "value": "big"}], "serve": "on"}],
                "default": "off",
            }
        },
        segments={"big": {"by": "org.id", "include": ["acme", 42]}},
    )
    assert client.get_bool("f", False, {"targetingKey": "u", "org": {"id": "acme"}}) is True
    assert client.get_bool("f", False, {"targetingKey": "u", "org": {"id": 42}}) is True
    assert client.get_bool("f", False, {"targetingKey": "u", "org": {"id": "42"}}) is False


def test_semver_needs_the_whole_string(make_client: MakeClient) -> None:
    """A version followed by a newline or junk is not a version."""
    client = _client(make_client, {"attribute": "a", "op": "semver_eq", "value": "1.0.0"})
    assert client.get_bool("f", False, {"a": "1.0.0"}) is True
    assert client.get_bool("f", False, {"a": "1.0.0\n"}) is False


class Plan(StrEnum):
    PRO = "pro"
    FREE = "free"


class Tier(IntEnum):
    GOLD = 3


def test_str_and_int_subclasses_compare_by_value(make_client: MakeClient) -> None:
    """StrEnum / IntEnum context values behave like their plain values, negated or not."""

    def rule(cond: dict[str, Any]) -> dict[str, Any]:
        return {
            "variants": BOOL,
            "rules": [{"when": [cond], "serve": "on"}],
            "default": "off",
        }

    client = make_client(
        {
            "in": rule({"attribute": "plan", "op": "in", "values": ["pro", "ent"]}),
            "not_in": rule({"attribute": "plan", "op": "not_in", "values": ["pro", "ent"]}),
            "eq": rule({"attribute": "plan", "op": "equals", "value": "pro"}),
            "mixed": rule({"attribute": "tier", "op": "in", "values": [3, "x"]}),
            "split": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        }
    )
    ctx = {"plan": Plan.PRO, "tier": Tier.GOLD, "targetingKey": Plan.FREE}
    assert (True, False, True, True) == tuple(
        client.get_bool(k, False, ctx) for k in ("in", "not_in", "eq", "mixed")
    )
    assert client.get_bool_details("split", False, ctx).bucket == flagkit.bucket_of("split", "free")
