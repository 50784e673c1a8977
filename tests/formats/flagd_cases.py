"""Shared flagd test cases: one document covering every operator and reason, and contexts.

Used by the differential test against the official provider, by the
snapshot test (flagd document through the flagkit Client) and by the
conversion test (flagd document against its native conversion).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

BOOL = {"on": True, "off": False}
COLORS = {"red": "#f00", "green": "#0f0", "blue": "#00f", "yellow": "#ff0"}
TRUE_FALSE = {"true": True, "false": False}


def _flag(
    variants: dict[str, Any], default: str | None, targeting: Any = None, **extra: Any
) -> Any:
    flag: dict[str, Any] = {"state": "ENABLED", "variants": variants, **extra}
    if default is not None:
        flag["defaultVariant"] = default
    if targeting is not None:
        flag["targeting"] = targeting
    return flag


DOCUMENT: dict[str, Any] = {
    "$evaluators": {
        "isStaff": {"ends_with": [{"var": "email"}, "@staff.example"]},
        "isBeta": {"in": [{"var": "tier"}, ["beta", "gold"]]},
    },
    "flags": {
        "static": _flag(BOOL, "on"),
        "static-no-default": _flag(COLORS, None),
        "disabled": _flag(BOOL, "on", {"if": [True, "off"]}, state="DISABLED"),
        "split-even": _flag(COLORS, "red", {"fractional": [["red", 50], ["blue", 50]]}),
        "split-uneven": _flag(
            COLORS, "red", {"fractional": [["red", 10], ["green", 20], ["blue", 70]]}
        ),
        "split-implicit-weights": _flag(
            COLORS, "red", {"fractional": [["red"], ["green"], ["blue", 2]]}
        ),
        "split-fine": _flag(BOOL, "off", {"fractional": [["on", 1], ["off", 9999]]}),
        "split-by-email": _flag(
            COLORS,
            "red",
            {
                "fractional": [
                    {"var": "email"},
                    ["red", 25],
                    ["green", 25],
                    ["blue", 25],
                    ["yellow", 25],
                ]
            },
        ),
        "split-salted": _flag(
            COLORS,
            "red",
            {
                "fractional": [
                    {"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]},
                    ["red", 1],
                    ["blue", 3],
                ]
            },
        ),
        "staff-then-split": _flag(
            COLORS,
            "yellow",
            {
                "if": [
                    {"$ref": "isStaff"},
                    "green",
                    {"$ref": "isBeta"},
                    {"fractional": [["red", 30], ["blue", 70]]},
                    None,
                ]
            },
        ),
        "semver-caret": _flag(TRUE_FALSE, "false", {"sem_ver": [{"var": "version"}, "^", "2.0.0"]}),
        "semver-tilde": _flag(TRUE_FALSE, "false", {"sem_ver": [{"var": "version"}, "~", "1.2.0"]}),
        "semver-ops": _flag(
            COLORS,
            "yellow",
            {
                "if": [
                    {"sem_ver": [{"var": "version"}, ">=", "3.0.0"]},
                    "red",
                    {"sem_ver": [{"var": "version"}, ">", "2.1"]},
                    "green",
                    {"sem_ver": [{"var": "version"}, "=", "v1.0.0"]},
                    "blue",
                    {"sem_ver": [{"var": "version"}, "<", "1.0.0"]},
                    "red",
                    None,
                ]
            },
        ),
        "strings": _flag(
            COLORS,
            "red",
            {
                "if": [
                    {"starts_with": [{"var": "email"}, "admin"]},
                    "blue",
                    {"in": ["@corp", {"var": "email"}]},
                    "green",
                    {"==": [{"var": ["tier", "none"]}, "none"]},
                    "yellow",
                    None,
                ]
            },
        ),
        "numbers": _flag(
            COLORS,
            "red",
            {
                "if": [
                    {"<": [10, {"var": "age"}, 20]},
                    "blue",
                    {"and": [{">=": [{"var": "age"}, 65]}, {"!": {"var": "opt_out"}}]},
                    "green",
                    {"or": [{"==": [{"var": "age"}, "42"]}, {"<=": [{"var": "age"}, 0]}]},
                    "yellow",
                    None,
                ]
            },
        ),
        "unknown-variant": _flag(
            COLORS, "red", {"if": [{"==": [{"var": "tier"}, "gold"]}, "purple", "red"]}
        ),
        "no-default-targeted": _flag(COLORS, None, {"if": [{"$ref": "isBeta"}, "green", None]}),
        "bool-result": _flag(TRUE_FALSE, "false", {"ends_with": [{"var": "email"}, ".example"]}),
    },
}

STRING_FLAGS = {
    key
    for key, flag in DOCUMENT["flags"].items()
    if isinstance(next(iter(flag["variants"].values())), str)
}


def random_contexts(count: int, seed: int = 8) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Yield ``count`` (targeting key, attributes) pairs, reproducibly."""
    rng = random.Random(seed)
    domains = ["@staff.example", "@corp.example", "@mail.test", "@x.example", ""]
    versions = [
        "2.0.0", "2.5.1", "1.9.9", "3.0.0", "1.2.9", "1.2.0", "1.3.0", "v2.1.0", "2.1", "2",
        "1.0.0", "v1.0.0", "1.0.0-rc.1", "0.9.0", "not-a-version", "2.0.0+build.1",
    ]  # fmt: skip
    tiers = ["beta", "gold", "free", None]
    for _ in range(count):
        key = rng.choice([None, *[f"user-{rng.randrange(10**6)}" for _ in range(9)]])
        attributes: dict[str, Any] = {
            "email": rng.choice(["admin", "bob", "carol", "dave"])
            + str(rng.randrange(1000))
            + rng.choice(domains),
            "version": rng.choice(versions),
            "age": rng.choice([rng.randrange(-5, 100), str(rng.randrange(100)), None]),
            "opt_out": rng.choice([True, False, 0, "", None]),
        }
        tier = rng.choice(tiers)
        if tier is not None:
            attributes["tier"] = tier
        attributes = {name: value for name, value in attributes.items() if value is not None}
        yield key, attributes
