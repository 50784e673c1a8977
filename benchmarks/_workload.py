"""The shared benchmark workload: users, flag documents and the floor evaluator."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import mmh3

COUNTRIES = ["NL", "BE", "DE", "FR", "US", "GB", "ES", "IT", "PL", "SE"]
PLANS = ["free", "pro", "enterprise"]
BOOL = {"on": True, "off": False}


def users(n: int = 10_000, seed: int = 7) -> list[dict[str, Any]]:
    """Return ``n`` distinct users with a country, a plan and an app version."""
    rng = random.Random(seed)
    return [
        {
            "targetingKey": f"user-{i}",
            "country": rng.choice(COUNTRIES),
            "plan": rng.choice(PLANS),
            "version": f"{rng.randint(1, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        }
        for i in range(n)
    ]


def core_flags() -> dict[str, Any]:
    """Return the four benchmark flags in the native format."""
    return {
        "constant": {"variants": BOOL, "default": "on"},
        "rollout": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 10, "off": 90}}}},
        "rule": {
            "variants": BOOL,
            "rules": [
                {
                    "when": [
                        {"attribute": "country", "op": "in", "values": ["NL", "BE", "DE"]},
                        {"attribute": "plan", "op": "equals", "value": "pro"},
                    ],
                    "serve": "on",
                }
            ],
            "default": "off",
        },
        "split": {
            "variants": {"a": "a", "b": "b", "c": "c"},
            "default": {"rollout": {"weights": {"a": 34, "b": 33, "c": 33}}},
        },
    }


def rule_flag(i: int) -> dict[str, Any]:
    """Return one of many distinct rule flags, for load and scaling runs."""
    return {
        "description": f"generated flag {i}",
        "variants": BOOL,
        "rules": [
            {
                "when": [
                    {"attribute": "country", "op": "in", "values": [COUNTRIES[i % 10], "NL"]},
                    {"attribute": "plan", "op": "equals", "value": PLANS[i % 3]},
                ],
                "serve": "on",
            }
        ],
        "default": {"rollout": {"weights": {"on": i % 100, "off": 100 - i % 100}}},
    }


def document(extra_flags: int = 0) -> dict[str, Any]:
    """Return the core flags plus ``extra_flags`` generated rule flags."""
    flags = core_flags()
    flags.update({f"flag-{i}": rule_flag(i) for i in range(extra_flags)})
    return {"flags": flags}


def flagd_document(extra_flags: int = 0) -> dict[str, Any]:
    """Return :func:`document`'s flags written as a flagd document (the same answers)."""

    def rule(countries: list[str], plan: str, otherwise: Any) -> dict[str, Any]:
        condition = {
            "and": [{"in": [{"var": "country"}, countries]}, {"==": [{"var": "plan"}, plan]}]
        }
        return {"if": [condition, "on", otherwise]}

    def flag(variants: dict[str, Any], default: str, targeting: Any = None) -> dict[str, Any]:
        written = {"state": "ENABLED", "variants": variants, "defaultVariant": default}
        return written if targeting is None else {**written, "targeting": targeting}

    flags = {
        "constant": flag(BOOL, "on"),
        "rollout": flag(BOOL, "off", {"fractional": [["on", 10], ["off", 90]]}),
        "rule": flag(BOOL, "off", rule(["NL", "BE", "DE"], "pro", "off")),
        "split": flag(
            {"a": "a", "b": "b", "c": "c"},
            "a",
            {"fractional": [["a", 34], ["b", 33], ["c", 33]]},
        ),
    }
    for i in range(extra_flags):
        weights = [["on", i % 100], ["off", 100 - i % 100]]
        otherwise = {"fractional": weights}
        flags[f"flag-{i}"] = flag(
            BOOL, "off", rule([COUNTRIES[i % 10], "NL"], PLANS[i % 3], otherwise)
        )
    return {"flags": flags}


Getter = Callable[[str, Any, dict[str, Any]], Any]


def floor() -> dict[str, Getter]:
    """Return the hand-written minimal evaluator of the four flags: the floor.

    Each takes ``(flag_key, default, user)`` like a typed getter, looks the
    flag up in a dict, and does the least work that flag needs: a hash and a
    compare for rollouts, a set lookup and a compare for the rule.
    """
    table: dict[str, Any] = {
        "constant": True,
        "rollout": 1000,
        "rule": (frozenset({"NL", "BE", "DE"}), "pro"),
        "split": (3400, 6700),
    }
    hash_ = mmh3.hash

    def constant(key: str, default: Any, user: dict[str, Any]) -> Any:
        return table.get(key, default)

    def rollout(key: str, default: Any, user: dict[str, Any]) -> Any:
        return (hash_(key + user["targetingKey"], 0, False) * 10000 >> 32) < table[key]

    def rule(key: str, default: Any, user: dict[str, Any]) -> Any:
        countries, plan = table[key]
        return user.get("country") in countries and user.get("plan") == plan

    def split(key: str, default: Any, user: dict[str, Any]) -> Any:
        first, second = table[key]
        bucket = hash_(key + user["targetingKey"], 0, False) * 10000 >> 32
        return "a" if bucket < first else "b" if bucket < second else "c"

    return {
        "constant": constant,
        "rollout": rollout,
        "rule": rule,
        "split": split,
        "missing": constant,
    }
