"""The flagkit native flag document for the workload (shared by flagkit and the floor)."""

from __future__ import annotations

from typing import Any

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, extra_rules

__all__ = ["document"]

_ON_OFF = {"on": True, "off": False}


def _rule_flag(countries: tuple[str, ...], plan: str) -> dict[str, Any]:
    return {
        "variants": _ON_OFF,
        "default": "off",
        "rules": [
            {
                "when": [
                    {"attribute": "country", "op": "in", "values": list(countries)},
                    {"attribute": "plan", "op": "equals", "value": plan},
                ],
                "serve": "on",
            }
        ],
    }


def document(total_flags: int) -> dict[str, Any]:
    """Return the flagkit native document for the workload."""
    flags: dict[str, Any] = {
        "constant": {"variants": _ON_OFF, "default": "on"},
        "rollout-10": {
            "variants": _ON_OFF,
            "default": {"rollout": {"weights": {"on": 10, "off": 90}}},
        },
        "rule": _rule_flag(RULE_COUNTRIES, "pro"),
        "split": {
            "variants": {name: name for name, _ in SPLIT_WEIGHTS},
            "default": {"rollout": {"weights": dict(SPLIT_WEIGHTS)}},
        },
    }
    for extra in extra_rules(total_flags):
        flags[extra.key] = _rule_flag(extra.countries, extra.plan)
    return {"flags": flags}
