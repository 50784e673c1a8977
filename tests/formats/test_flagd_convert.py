"""Converting flagd documents to the native format: differentially exact, or explained."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

import flagkit
from flagkit.formats.flagd._convert import convert_flagd
from tests.formats.flagd_cases import DOCUMENT, random_contexts

COLORS = {"red": "#f00", "green": "#0f0", "blue": "#00f"}

#: Flags built from every convertible construct; each must convert.
CONVERTIBLE: dict[str, Any] = {
    "$evaluators": {"isPro": {"===": [{"var": "plan"}, "pro"]}},
    "flags": {
        "young": {
            "variants": COLORS,
            "defaultVariant": "red",
            "targeting": {"if": [{"<": [{"var": "age"}, 18]}, "green", "blue"]},
        },
        "old": {
            "variants": COLORS,
            "defaultVariant": "red",
            "targeting": {"if": [{">=": [{"var": "age"}, 65]}, "green", None]},
        },
        "between": {
            "variants": COLORS,
            "defaultVariant": "red",
            "targeting": {"if": [{"<=": [-5, {"var": "age"}, 30]}, "green", None]},
        },
        "flipped": {
            "variants": COLORS,
            "defaultVariant": "red",
            "targeting": {"if": [{">": [40, {"var": "age"}]}, "blue"]},
        },
        "plans": {
            "variants": COLORS,
            "defaultVariant": "red",
            "targeting": {
                "if": [
                    {"or": [{"$ref": "isPro"}, {"==": [{"var": "plan"}, "team"]}]},
                    {"if": [{"in": [{"var": "country"}, ["NL", "BE"]]}, "green", "blue"]},
                    {"and": [{"in": ["@corp", {"var": "email"}]}, {"!==": [1, 1]}]},
                    "green",
                    {"starts_with": [{"var": "email"}, "admin"]},
                    {"fractional": [["red", 1], ["blue", 3]]},
                    "red",
                ]
            },
        },
        "nested-attribute": {
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"===": [{"var": "org.tier"}, 2]}, "on", "off"]},
        },
        "by-email": {
            "variants": COLORS,
            "defaultVariant": "blue",
            "targeting": {"fractional": [{"var": "email"}, ["red", 2], [None, 2], ["green", 4]]},
        },
        "bare-test": {
            "variants": {"true": True, "false": False},
            "defaultVariant": "false",
            "targeting": {"ends_with": [{"var": "email"}, ".example"]},
        },
        "semver": {
            "variants": COLORS,
            "defaultVariant": "red",
            "targeting": {
                "if": [
                    {"sem_ver": [{"var": "version"}, "^", "1.0.0"]},
                    "green",
                    {"sem_ver": [{"var": "version"}, "!=", "2.0.0"]},
                    "blue",
                ]
            },
        },
        "off": {"state": "DISABLED", "variants": COLORS, "defaultVariant": "green"},
    },
}
CONVERTIBLE["flags"]["plans"]["targeting"]["if"][2]["and"][1] = {"in": ["@", {"var": "email"}]}


def typed_contexts(count: int, seed: int = 88) -> Iterator[dict[str, Any]]:
    """Yield contexts whose attributes have the types the tests compare (or are missing)."""
    rng = random.Random(seed)
    versions = ["1.0.0", "1.9.9-rc.1", "2.0.0", "2.0.0+b", "0.9.0", "v1.2", "junk", "3.0.0-0"]
    for _ in range(count):
        context: dict[str, Any] = {
            "targetingKey": rng.choice([None, "", *[f"user-{rng.randrange(10**6)}"] * 8]),
            "age": rng.choice([None, rng.randrange(-10, 100), rng.random() * 100]),
            "plan": rng.choice([None, "pro", "team", "free"]),
            "country": rng.choice([None, "NL", "BE", "DE"]),
            "email": rng.choice([None, f"admin{rng.randrange(99)}@corp.example", "bob@x.test"]),
            "version": rng.choice([None, *versions]),
            "org": rng.choice([None, {"tier": 2}, {"tier": 2.0}, {"tier": True}, {}]),
        }
        yield {
            name: value
            for name, value in context.items()
            if value is not None or rng.random() < 0.3
        }


def _differences(document: dict[str, Any], contexts: list[dict[str, Any]]) -> list[Any]:
    conversion = convert_flagd(document)
    theirs = flagkit.Client.from_dict(document, format="flagd")
    ours = flagkit.Client.from_dict(conversion.document)
    differences = []
    for key in conversion.converted:
        for context in contexts:
            expected = theirs.get_details(key, "caller-default", context)
            actual = ours.get_details(key, "caller-default", context)
            if (expected.value, expected.variant) != (actual.value, actual.variant):
                differences.append((key, context, expected, actual))
    return differences


def test_convertible_flags_all_convert() -> None:
    """Every construct of the convertible document converts, with coercion notes."""
    conversion = convert_flagd(CONVERTIBLE)
    assert [] == conversion.problems
    assert sorted(CONVERTIBLE["flags"]) == sorted(conversion.converted)
    assert any("flags.young.targeting.if[0].<" in note for note in conversion.notes)
    flagkit.Client.from_dict(conversion.document)  # the result is a valid native document


def test_converted_flags_serve_identical_values_and_variants() -> None:
    """Over many typed contexts, flagd and its native conversion serve the same."""
    assert [] == _differences(CONVERTIBLE, list(typed_contexts(3000)))


def test_shared_document_converts_where_exact() -> None:
    """The shared flagd cases convert where exact, and agree on the random contexts."""
    contexts = [{**attrs, "targetingKey": key} for key, attrs in random_contexts(1500)]
    assert [] == _differences(DOCUMENT, contexts)
    conversion = convert_flagd(DOCUMENT)
    left_out = {problem.split("'")[-2] for problem in conversion.problems}
    assert {
        "static-no-default",
        "split-salted",
        "strings",
        "numbers",
        "unknown-variant",
        "no-default-targeted",
    } == left_out


@pytest.mark.parametrize(
    ("targeting", "message"),
    [
        ({"fractional": [["red", 1], ["green", 2]]}, "not a whole hundredth"),
        ({"fractional": [["red", 1], ["green", 1], ["red", 2]]}, "two separate buckets"),
        ({"if": [{"==": [{"var": "n"}, "5"]}, "red"]}, "no native condition"),
        ({"if": [{"<": [{"var": "n"}, {"var": "m"}]}, "red"]}, "no native condition"),
        ({"if": [{"===": [{"var": ["n", 1]}, 1]}, "red"]}, "converts only as a test of a var"),
        ({"cat": ["re", "d"]}, "can pick a variant natively"),
    ],
)
def test_unconvertible_constructs_are_explained(targeting: Any, message: str) -> None:
    """A construct without an exact native form leaves its flag out, saying where and why."""
    document = {
        "flags": {"f": {"variants": COLORS, "defaultVariant": "red", "targeting": targeting}}
    }
    conversion = convert_flagd(document)
    assert [] == conversion.converted
    assert 1 == len(conversion.problems)
    assert conversion.problems[0].startswith("flags.f.targeting")
    assert message in conversion.problems[0]
