"""The flagd flag definition document of the workload (no SDK needed to write it)."""

from __future__ import annotations

from typing import Any

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, extra_rules

__all__ = ["document"]

_ON_OFF = {"on": True, "off": False}


def _rule_flag(countries: tuple[str, ...], plan: str) -> dict[str, Any]:
    condition = {
        "and": [
            {"in": [{"var": "country"}, list(countries)]},
            {"==": [{"var": "plan"}, plan]},
        ]
    }
    return {
        "state": "ENABLED",
        "variants": _ON_OFF,
        "defaultVariant": "off",
        "targeting": {"if": [condition, "on", "off"]},
    }


def document(total_flags: int) -> dict[str, Any]:
    """Return the flagd flag definition document for the workload."""
    flags: dict[str, Any] = {
        "constant": {"state": "ENABLED", "variants": _ON_OFF, "defaultVariant": "on"},
        "rollout-10": {
            "state": "ENABLED",
            "variants": _ON_OFF,
            "defaultVariant": "off",
            "targeting": {"fractional": [["on", 10], ["off", 90]]},
        },
        "rule": _rule_flag(RULE_COUNTRIES, "pro"),
        "split": {
            "state": "ENABLED",
            "variants": {name: name for name, _ in SPLIT_WEIGHTS},
            "defaultVariant": "a",
            "targeting": {"fractional": [[name, weight] for name, weight in SPLIT_WEIGHTS]},
        },
    }
    for extra in extra_rules(total_flags):
        flags[extra.key] = _rule_flag(extra.countries, extra.plan)
    return {"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": flags}
