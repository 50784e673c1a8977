"""flagkit against Unleash's own Python SDK (UnleashClient and its engine) on generated contexts.

The document exercises what the integration server cannot create any more
(feature variants with overrides and custom stickiness) and every operator
with its edge values; Hypothesis generates contexts, including values the
SDK has to stringify (numbers, booleans), in both context shapes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flagkit
from flagkit.formats.unleash import snapshot_from_unleash
from tests.helpers import examples

APP = "differential"


def _c(context: str, operator: str, values: Any, **flags: bool) -> dict[str, Any]:
    key = "values" if isinstance(values, list) else "value"
    return {"contextName": context, "operator": operator, key: values, **flags}


def _strategy(name: str, constraints: list[Any], **parameters: str) -> dict[str, Any]:
    return {"name": name, "parameters": parameters, "constraints": constraints}


OPERATOR_CASES: list[tuple[str, str, Any, dict[str, bool]]] = [
    ("p", "IN", ["1", "True", "x"], {}),
    ("p", "NOT_IN", ["1", "x"], {}),
    ("p", "IN", ["1"], {"inverted": True}),
    ("p", "STR_CONTAINS", ["X", "ü"], {"caseInsensitive": True}),
    ("p", "STR_STARTS_WITH", ["1", "a"], {"inverted": True}),
    ("p", "STR_ENDS_WITH", ["5", "Z"], {}),
    ("p", "NUM_EQ", "1", {}),
    ("p", "NUM_GT", "1.5", {"inverted": True}),
    ("p", "NUM_LTE", "-2e1", {}),
    ("p", "DATE_AFTER", "2024-01-01T00:00:00.000Z", {}),
    ("p", "DATE_BEFORE", "2024-06-01T00:00:00+02:00", {"inverted": True}),
    ("p", "SEMVER_EQ", "1.2.3", {}),
    ("p", "SEMVER_GT", "1.0.0-rc.1", {}),
    ("p", "SEMVER_LT", "2.0.0", {"inverted": True}),
    ("p", "IN_CIDR", ["10.0.0.0/8", "bad", "::1"], {}),
    ("p", "REGEX", "^[a-c]+\\d?$", {"caseInsensitive": True}),
    ("userId", "IN", ["u1", "u2"], {}),
    ("sessionId", "STR_STARTS_WITH", ["s1"], {}),
    ("remoteAddress", "IN_CIDR", ["192.168.0.0/16"], {}),
    ("appName", "IN", [APP], {}),
    ("environment", "NOT_IN", ["prod"], {}),
    ("currentTime", "DATE_AFTER", "2025-01-01T00:00:00.000Z", {}),
]

DOCUMENT: dict[str, Any] = {
    "version": 2,
    "segments": [
        {"id": 1, "constraints": [_c("p", "NUM_GTE", "0")]},
        {"id": 2, "constraints": [_c("q", "IN", ["a", "b"])]},
    ],
    "features": [
        *(
            {
                "name": f"op-{i}",
                "enabled": True,
                "strategies": [_strategy("default", [_c(ctx, op, value, **flags)])],
            }
            for i, (ctx, op, value, flags) in enumerate(OPERATOR_CASES)
        ),
        {
            "name": "variants-overrides",
            "enabled": True,
            "strategies": [_strategy("flexibleRollout", [], rollout="60", groupId="g")],
            "variants": [
                {
                    "name": "a",
                    "weight": 334,
                    "stickiness": "q",
                    "payload": {"type": "json", "value": '{"k": 1}'},
                    "overrides": [{"contextName": "userId", "values": ["u3"]}],
                },
                {"name": "b", "weight": 333, "weightType": "fix", "stickiness": "q"},
                {
                    "name": "c",
                    "weight": 333,
                    "stickiness": "q",
                    "payload": {"type": "csv", "value": "x,y"},
                    "overrides": [{"contextName": "p", "values": ["1"]}],
                },
            ],
        },
        {
            "name": "segmented",
            "enabled": True,
            "strategies": [
                {**_strategy("userWithId", [], userIds="u1, u4"), "segments": [1, 2]},
                {**_strategy("remoteAddress", [], IPs="10.1.1.1, 172.16.0.0/12")},
                _strategy("gradualRolloutSessionId", [], percentage="45", groupId="gs"),
            ],
        },
        {
            "name": "strategy-variants",
            "enabled": True,
            "strategies": [
                {
                    **_strategy(
                        "flexibleRollout",
                        [_c("q", "IN", ["a"])],
                        rollout="90",
                        stickiness="sessionId",
                        groupId="sv",
                    ),
                    "variants": [
                        {"name": "x", "weight": 1, "payload": {"type": "number", "value": "7"}},
                        {"name": "y", "weight": 3},
                    ],
                },
                _strategy("gradualRolloutUserId", [], percentage="50", groupId="gu"),
            ],
            "variants": [{"name": "feature-level", "weight": 1, "stickiness": "default"}],
        },
        {
            "name": "parent",
            "enabled": True,
            "strategies": [
                {
                    **_strategy(
                        "flexibleRollout", [], rollout="50", stickiness="userId", groupId="pp"
                    ),
                    "variants": [{"name": "red", "weight": 1}, {"name": "blue", "weight": 1}],
                }
            ],
        },
        {
            "name": "child-red",
            "enabled": True,
            "strategies": [_strategy("default", [])],
            "dependencies": [{"feature": "parent", "variants": ["red"]}],
        },
        {
            "name": "child-off",
            "enabled": True,
            "strategies": [_strategy("default", [])],
            "dependencies": [{"feature": "parent", "enabled": False}],
        },
        {"name": "off", "enabled": False, "strategies": [_strategy("default", [])]},
        {
            "name": "broken",
            "enabled": True,
            "strategies": [_strategy("default", [_c("p", "NUM_GT", "not a number")])],
        },
    ],
}

_VALUES = (
    st.sampled_from(
        [
            "1",
            "1.0",
            "True",
            "x",
            "X",
            "ab",
            "abc5",
            "A1",
            " 5",
            "1_0",
            "inf",
            "nan",
            "-20",
            "1.2.3",
            "1.2.3+b",
            "1.0.0-rc.2",
            "2.0.0",
            "01.2.3",
            "v1.2.3",
            "2024-03-01T10:00:00Z",
            "2024-05-31T23:00:00.5+00:00",
            "2024-01-01 00:00:00Z",
            "10.2.3.4",
            "::1",
            "192.168.1.1",
            "ü",
            "Ü",
        ]
    )
    | st.integers(-3, 3)
    | st.booleans()
    | st.floats(-3, 3, allow_nan=False).map(lambda f: round(f, 1))
)


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": draw(st.sampled_from(["u1", "u2", "u3", "u4", "u5"]))}
    for name, values in (
        ("sessionId", st.sampled_from(["s1", "s2", "s10", "x"])),
        ("remoteAddress", st.sampled_from(["10.1.1.1", "172.20.1.1", "192.168.3.3", "bad"])),
        ("currentTime", st.sampled_from(["2024-12-31T23:59:59Z", "2025-01-01T00:00:01Z"])),
        ("environment", st.sampled_from(["prod", "dev"])),
    ):
        if draw(st.booleans()):
            context[name] = draw(values)
    context["currentTime"] = context.get("currentTime", "2025-06-01T00:00:00Z")
    properties = {"p": draw(_VALUES)} if draw(st.booleans()) else {}
    # Always a "q": a variant's stickiness field that is missing is a random
    # draw, which no two clients share.
    properties["q"] = draw(st.sampled_from(["a", "b"]) | _VALUES)
    context["properties"] = properties
    return context


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    """UnleashClient, bootstrapped with DOCUMENT, off the network."""
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    cache = FileCache(APP, directory=tempfile.mkdtemp(prefix="unleash-differential-"))
    cache.bootstrap_from_dict(DOCUMENT)
    client = UnleashClient(
        url="http://unleash.invalid/api",
        app_name=APP,
        environment="default",
        instance_id="differential",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
    )
    client.initialize_client(fetch_toggles=False)
    yield client
    client.destroy()


@pytest.fixture(scope="module")
def mine() -> flagkit.Client:
    return flagkit.Client(snapshot_from_unleash(DOCUMENT, app_name=APP, environment="default"))


def _flat(context: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in context.items() if k != "properties"}, **context["properties"]}


@given(context=contexts(), flat=st.booleans())
@settings(max_examples=examples(300))
def test_agrees_with_unleash_client(
    reference: Any, mine: flagkit.Client, context: dict[str, Any], flat: bool
) -> None:
    """Every feature: is_enabled and get_variant equal UnleashClient's, in either context shape."""
    ours = _flat(context) if flat else context
    for feature in DOCUMENT["features"]:
        name = feature["name"]
        expected = (reference.is_enabled(name, context), reference.get_variant(name, context))
        actual = (mine.get_bool(name, False, ours), mine.get_variant(name, ours).to_dict())
        assert (name, expected) == (name, actual)


def test_operator_features_answer_both_ways(mine: flagkit.Client) -> None:
    """The document is not vacuous: each operator feature is on for one context, off for another."""
    samples = [
        {
            "userId": u,
            "properties": {"p": p},
            "remoteAddress": address,
            "sessionId": session,
            "environment": environment,
            "currentTime": t,
        }
        for u, session, address, environment in (
            ("u1", "s1", "192.168.1.1", "dev"),
            ("u5", "x", "8.8.8.8", "prod"),
        )
        for p in (
            "1",
            "x",
            "abc5",
            "1.2.3",
            "2.0.0",
            "10.2.3.4",
            "2024-03-01T10:00:00Z",
            "2024-07-01T00:00:00Z",
            "-20",
            "X5",
            "5",
        )
        for t in ("2024-12-31T23:59:59Z", "2025-01-01T00:00:01Z")
    ]
    samples.append({"appName": "another-app"})  # the static appName is only a default
    one_sided = []
    for i in range(len(OPERATOR_CASES)):
        answers = {mine.get_bool(f"op-{i}", False, c) for c in [*samples, {}]}
        if answers != {True, False}:
            one_sided.append(OPERATOR_CASES[i])
    assert [] == one_sided
