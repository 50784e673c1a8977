"""The features the integration test creates through Unleash's admin API, and its contexts.

Every strategy Unleash ships, constraints of every operator family (with
``inverted`` and ``caseInsensitive``), a segment, strategy and feature
variants with payloads of each type, a fixed-weight variant with an
override, and dependencies on a parent (enabled, and on a variant).
"""

from __future__ import annotations

import random
import socket
from typing import Any

from tests.integration.unleash.harness import UnleashServer

ENV = "development"
PROJECT = "/admin/projects/default"


def _rollout(percent: int, group: str, stickiness: str = "default", **extra: Any) -> dict[str, Any]:
    strategy: dict[str, Any] = {
        "name": "flexibleRollout",
        "parameters": {"rollout": str(percent), "stickiness": stickiness, "groupId": group},
    }
    strategy.update(extra)
    return strategy


def _c(context: str, operator: str, values: Any, **flags: bool) -> dict[str, Any]:
    constraint: dict[str, Any] = {"contextName": context, "operator": operator, **flags}
    if isinstance(values, list):
        constraint["values"] = values
    else:
        constraint["value"] = values
    return constraint


def _variant(name: str, weight: int, payload: tuple[str, str] | None = None, **extra: Any) -> dict:
    variant: dict[str, Any] = {
        "name": name,
        "weight": weight,
        "weightType": "variable",
        "stickiness": "default",
        **extra,
    }
    if payload is not None:
        variant["payload"] = {"type": payload[0], "value": payload[1]}
    return variant


#: Unleash 7 keeps feature (environment) variants for old data only and
#: refuses new ones; their overrides are covered by the specification's file
#: 08 and by tests/formats/test_unleash_differential.py instead.
FIXED_VARIANTS = [
    _variant("control", 500, ("string", "c")),
    _variant("treatment", 300, ("json", '{"color": "green"}')),
    # A fixed weight: Unleash computes the variable ones around it.
    {**_variant("pinned", 200, ("number", "1.5")), "weightType": "fix"},
]


def strategies(segment_id: int) -> dict[str, list[dict[str, Any]]]:
    """Return each feature's strategies (the segment's id is the server's)."""
    host = socket.gethostname()
    return {
        "it-default": [{"name": "default", "parameters": {}}],
        "it-user-ids": [{"name": "userWithId", "parameters": {"userIds": "u-1,u-7, u-42,u-99"}}],
        "it-rollout": [_rollout(40, "it-rollout")],
        "it-rollout-user": [_rollout(30, "it-rollout-user", "userId", segments=[segment_id])],
        "it-rollout-session": [_rollout(60, "it-rollout-session", "sessionId")],
        "it-rollout-custom": [_rollout(50, "it-custom", "tenant")],
        "it-gradual-user": [
            {"name": "gradualRolloutUserId", "parameters": {"percentage": "35", "groupId": "g1"}}
        ],
        "it-gradual-session": [
            {"name": "gradualRolloutSessionId", "parameters": {"percentage": "65", "groupId": "g2"}}
        ],
        "it-random-all": [{"name": "gradualRolloutRandom", "parameters": {"percentage": "100"}}],
        "it-remote": [
            {
                "name": "remoteAddress",
                "parameters": {"IPs": "10.0.0.1, 192.168.0.0/16, 2001:db8::/32"},
            }
        ],
        "it-hostname": [{"name": "applicationHostname", "parameters": {"hostNames": host}}],
        "it-constraints": [
            {
                "name": "default",
                "parameters": {},
                "constraints": [
                    _c("country", "IN", ["NL", "BE", "DE"]),
                    _c("plan", "NOT_IN", ["free"]),
                    _c("email", "STR_ENDS_WITH", ["@EXAMPLE.COM"], caseInsensitive=True),
                    _c("age", "NUM_GTE", "18"),
                ],
            },
            {
                "name": "default",
                "parameters": {},
                "constraints": [
                    _c("version", "SEMVER_GT", "2.0.0-beta.1"),
                    _c("currentTime", "DATE_AFTER", "2026-01-01T00:00:00.000Z"),
                    _c("email", "STR_CONTAINS", ["spam"], inverted=True),
                    _c("name", "STR_STARTS_WITH", ["a", "b"]),
                    _c("score", "NUM_LT", "7.5"),
                ],
            },
        ],
        "it-strategy-variants": [
            _rollout(
                80,
                "it-strategy-variants",
                constraints=[_c("plan", "IN", ["pro", "team"])],
                variants=[
                    _variant("text", 400, ("string", "hello")),
                    _variant("json", 300, ("json", '{"price": 9}')),
                    _variant("csv", 200, ("csv", "a,b,c")),
                    _variant("number", 100, ("number", "42")),
                ],
            ),
            _rollout(
                50,
                "second",
                "sessionId",
                variants=[_variant("fallback", 1000, ("string", "second"))],
            ),
        ],
        "it-fixed-variants": [_rollout(70, "it-fixed-variants", variants=FIXED_VARIANTS)],
        "it-parent": [_rollout(50, "it-parent")],
        "it-child": [{"name": "default", "parameters": {}}],
        "it-variant-parent": [
            _rollout(
                100,
                "it-variant-parent",
                variants=[_variant("red", 500), _variant("blue", 500)],
            )
        ],
        "it-variant-child": [_rollout(75, "it-variant-child")],
        "it-disabled": [{"name": "default", "parameters": {}}],
    }


#: Strategies Unleash 7 no longer lists by default; SDKs still evaluate them.
_LEGACY_STRATEGIES = {
    "userWithId": [("userIds", "list")],
    "gradualRolloutUserId": [("percentage", "percentage"), ("groupId", "string")],
    "gradualRolloutSessionId": [("percentage", "percentage"), ("groupId", "string")],
    "gradualRolloutRandom": [("percentage", "percentage")],
    "remoteAddress": [("IPs", "list")],
    "applicationHostname": [("hostNames", "list")],
}


def _define_legacy_strategies(server: UnleashServer) -> None:
    known = {s["name"] for s in server.call("GET", "/admin/strategies")["strategies"]}
    for name, parameters in _LEGACY_STRATEGIES.items():
        if name not in known:
            server.call(
                "POST",
                "/admin/strategies",
                {
                    "name": name,
                    "parameters": [
                        {"name": p, "type": kind, "required": False} for p, kind in parameters
                    ],
                },
            )


def create_features(server: UnleashServer) -> list[str]:
    """Create the segment and the features, turn them on; return the feature names."""
    _define_legacy_strategies(server)
    segment = server.call(
        "POST",
        "/admin/segments",
        {"name": "it-segment", "constraints": [_c("country", "IN", ["NL", "BE"])]},
    )
    plan = strategies(segment["id"])
    for name, feature_strategies in plan.items():
        server.call(
            "POST",
            f"{PROJECT}/features",
            {"name": name, "type": "release", "impressionData": name == "it-rollout"},
        )
        for strategy in feature_strategies:
            server.call(
                "POST", f"{PROJECT}/features/{name}/environments/{ENV}/strategies", strategy
            )
    server.call("POST", f"{PROJECT}/features/it-child/dependencies", {"feature": "it-parent"})
    server.call(
        "POST",
        f"{PROJECT}/features/it-variant-child/dependencies",
        {"feature": "it-variant-parent", "enabled": True, "variants": ["red"]},
    )
    for name in plan:
        if name != "it-disabled":
            server.call("POST", f"{PROJECT}/features/{name}/environments/{ENV}/on")
    return list(plan)


def contexts(count: int, seed: int = 13) -> list[dict[str, Any]]:
    """Return ``count`` Unleash-style contexts covering every field the features read."""
    rng = random.Random(seed)
    found = []
    for i in range(count):
        properties = {
            "country": rng.choice(["NL", "BE", "DE", "FR", "nl"]),
            "plan": rng.choice(["free", "pro", "team"]),
            "email": rng.choice(["a@example.com", "b@EXAMPLE.com", "spam@example.com", "x@y.org"]),
            "age": rng.choice(["17", "18", "40", "x", "18.0"]),
            "version": rng.choice(["1.9.0", "2.0.0-alpha", "2.0.0-beta.2", "2.0.0", "v3"]),
            "name": rng.choice(["alice", "bob", "carol"]),
            "score": rng.choice(["1", "7.5", "9", "-3e2"]),
            "tenant": f"t-{rng.randrange(500)}",
        }
        context: dict[str, Any] = {
            "userId": f"u-{i}" if i % 10 else None,
            # Every context has a userId or a sessionId: without both, Unleash's
            # default stickiness is a random draw, which no two clients share.
            "sessionId": f"s-{rng.randrange(10**6)}" if i % 3 or not i % 10 else None,
            "remoteAddress": rng.choice(["10.0.0.1", "192.168.4.2", "2001:db8::9", "8.8.8.8"]),
            "currentTime": rng.choice(["2025-06-01T00:00:00Z", "2026-06-01T12:00:00.123Z"]),
            "properties": {k: v for k, v in properties.items() if rng.random() < 0.9},
        }
        found.append({k: v for k, v in context.items() if v is not None})
    return found


def flat(context: dict[str, Any]) -> dict[str, Any]:
    """Return the same context as one flat mapping, the way flagkit users write them."""
    result = {k: v for k, v in context.items() if k != "properties"}
    result.update(context.get("properties", {}))
    return result
