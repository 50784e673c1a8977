"""Invariants of the evaluation core, checked with Hypothesis."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import flagkit
from flagkit import Reason, bucket_of
from tests.helpers import examples

BOOL = {"on": True, "off": False}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
contexts = st.dictionaries(
    st.sampled_from(
        ["targetingKey", "country", "plan", "version", "age", "org", "email", "when", "tags"]
    )
    | st.text(max_size=6),
    json_values,
    max_size=8,
)

EVERYTHING = flagkit.Client.from_dict(
    {
        "segments": {
            "s": {
                "include": ["a"],
                "rules": [{"when": [{"attribute": "email", "op": "ends_with", "value": "@x.io"}]}],
            }
        },
        "flags": {
            "f": {
                "variants": {"a": "a", "b": "b", "c": "c"},
                "prerequisites": [{"flag": "g", "variants": ["on"]}],
                "off_variant": "c",
                "rules": [
                    {
                        "when": [{"attribute": "country", "op": "in", "values": ["NL", 1, True]}],
                        "serve": "a",
                    },
                    {
                        "when": [{"attribute": "plan", "op": "not_equals", "value": "free"}],
                        "serve": "b",
                    },
                    {
                        "when": [{"attribute": "version", "op": "semver_gte", "value": "2.0.0"}],
                        "serve": "a",
                    },
                    {
                        "when": [{"attribute": "age", "op": "gt", "value": 18, "negate": True}],
                        "serve": "b",
                    },
                    {
                        "when": [{"attribute": "email", "op": "matches", "value": "^[a-z]+@"}],
                        "serve": "a",
                    },
                    {
                        "when": [
                            {"attribute": "when", "op": "after", "value": "2026-01-01T00:00:00Z"}
                        ],
                        "serve": "b",
                    },
                    {"when": [{"attribute": "tags", "op": "contains", "value": "x"}], "serve": "a"},
                    {
                        "when": [{"attribute": "org.id", "op": "starts_with", "value": "o"}],
                        "serve": "b",
                    },
                    {"when": [{"op": "in_segment", "values": ["s"]}], "serve": "a"},
                    {
                        "when": [{"attribute": "org", "op": "exists"}],
                        "serve": {"rollout": {"by": "org.id", "weights": {"a": 50, "b": 50}}},
                    },
                ],
                "default": {"rollout": {"weights": {"a": 34, "b": 33, "c": 33}}},
            },
            "g": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 90, "off": 10}}}},
        },
    }
)


@settings(max_examples=examples(400), deadline=None)
@given(contexts)
def test_evaluation_never_raises(context: dict[str, Any]) -> None:
    """Any JSON context gives a result, never an exception."""
    details = EVERYTHING.get_str_details("f", "default", context)
    assert details.value in {"a", "b", "c", "default"}
    assert EVERYTHING.get_str("f", "default", context) == details.value
    assert EVERYTHING.get_bool("f", True, context) is True  # a type mismatch: the default


@settings(max_examples=examples(300), deadline=None)
@given(contexts)
def test_the_fast_evaluator_serves_what_the_reporting_one_does(context: dict[str, Any]) -> None:
    """Each flag's ``evaluate_fast`` (the getters') resolves as ``evaluate``, minus the bucket."""
    for key in ("f", "g"):
        flag = EVERYTHING.snapshot.flags[key]
        resolution, _ = flag.evaluate(context)
        assert flag.evaluate_fast is not flag.evaluate  # their rollouts report buckets
        assert (resolution, None) == flag.evaluate_fast(context)


@settings(max_examples=examples(200), deadline=None)
@given(contexts)
def test_same_input_same_result(context: dict[str, Any]) -> None:
    """Evaluation is deterministic: the same context gives the same details."""
    assert EVERYTHING.get_str_details("f", "d", context) == EVERYTHING.get_str_details(
        "f", "d", dict(context)
    )


@settings(max_examples=examples(60), deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50, unique=True),
)
def test_raising_a_rollout_never_removes_a_user(low: int, high: int, keys: list[str]) -> None:
    """A user who has the feature at p% still has it at any q >= p."""
    low, high = sorted((low, high))

    def client(hundredths: int) -> flagkit.Client:
        on = hundredths / 100
        return flagkit.Client.from_dict(
            {
                "flags": {
                    "f": {
                        "variants": BOOL,
                        "default": {"rollout": {"weights": {"on": on, "off": 100 - on}}},
                    }
                }
            }
        )

    small, large = client(low), client(high)
    for key in keys:
        if small.get_bool("f", False, {"targetingKey": key}):
            assert large.get_bool("f", False, {"targetingKey": key})


def _chi_square(observed: list[int], expected: list[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


def test_split_matches_its_weights_over_100k_keys() -> None:
    """A 34/33/33 split is within chi-square tolerance over 100,000 keys."""
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "s": {
                    "variants": {"a": "a", "b": "b", "c": "c"},
                    "default": {"rollout": {"weights": {"a": 34, "b": 33, "c": 33}}},
                }
            }
        }
    )
    n = 100_000
    counts = Counter(client.get_str("s", "?", {"targetingKey": f"user-{i}"}) for i in range(n))
    statistic = _chi_square([counts["a"], counts["b"], counts["c"]], [0.34 * n, 0.33 * n, 0.33 * n])
    # 2 degrees of freedom: the 99.9th percentile is 13.82.
    assert statistic < 13.82, counts


@settings(max_examples=examples(20), deadline=None)
@given(st.text(min_size=1, max_size=10), st.text(min_size=1, max_size=10))
def test_different_salts_bucket_independently(salt_a: str, salt_b: str) -> None:
    """Membership in two 50% rollouts with different salts is uncorrelated."""
    if salt_a == salt_b:
        return
    n = 4000
    table = Counter(
        (bucket_of(salt_a, f"u{i}") < 5000, bucket_of(salt_b, f"u{i}") < 5000) for i in range(n)
    )
    # Independence: each of the four cells holds about n/4 (chi-square, 3 dof, p=0.0001: 21.1).
    statistic = _chi_square(
        [table[(x, y)] for x in (True, False) for y in (True, False)], [n / 4] * 4
    )
    assert statistic < 21.1, table


def test_reasons_cover_a_split_flag() -> None:
    """A rollout's reason is SPLIT and its bucket is the formula's."""
    details = EVERYTHING.get_str_details("g", "x", {"targetingKey": "k"})
    assert details.reason == Reason.ERROR  # g is a bool flag read as str
    details = EVERYTHING.get_bool_details("g", False, {"targetingKey": "k"})
    assert (Reason.SPLIT, bucket_of("g", "k")) == (details.reason, details.bucket)
    assert not math.isnan(float(details.bucket or 0))
