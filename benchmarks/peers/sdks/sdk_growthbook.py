"""GrowthBook: a features payload (the SDK's JSON), evaluated locally by ``GrowthBook``.

Setup: the docs have servers load the features JSON (normally from the
GrowthBook CDN or a cache) and hand it to ``GrowthBook(features=...)``; with
no ``api_host``/``client_key`` the SDK never fetches.  No tracking callback is
set, so experiment exposures go nowhere.  One instance holds the parsed
features; each user is applied with ``set_attributes`` (part of the timed call).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from growthbook import GrowthBook

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, User, extra_rules

from .base import Evaluator, write_json


def _rule_feature(countries: tuple[str, ...], plan: str) -> dict[str, Any]:
    return {
        "defaultValue": False,
        "rules": [
            {"condition": {"country": {"$in": list(countries)}, "plan": plan}, "force": True}
        ],
    }


def document(total_flags: int) -> dict[str, Any]:
    """Return the GrowthBook features payload for the workload."""
    features: dict[str, Any] = {
        "constant": {"defaultValue": True},
        # A percentage rollout: force ``true`` for 10% of ``id`` hashes.
        "rollout-10": {
            "defaultValue": False,
            "rules": [
                {"force": True, "coverage": 0.1, "hashAttribute": "id", "seed": "rollout-10"}
            ],
        },
        "rule": _rule_feature(RULE_COUNTRIES, "pro"),
        # A three-way split is an experiment rule with weighted variations.
        "split": {
            "defaultValue": "a",
            "rules": [
                {
                    "key": "split",
                    "variations": [name for name, _ in SPLIT_WEIGHTS],
                    "weights": [weight / 100 for _, weight in SPLIT_WEIGHTS],
                    "hashAttribute": "id",
                    "coverage": 1.0,
                }
            ],
        },
    }
    for extra in extra_rules(total_flags):
        features[extra.key] = _rule_feature(extra.countries, extra.plan)
    return {"features": features}


def _context(user: User) -> dict[str, str]:
    return {"id": user.key, "country": user.country, "plan": user.plan, "version": user.version}


class GrowthBookAdapter:
    name = "growthbook"
    distributions = ("growthbook",)

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "growthbook.json")

    def load(self, path: Path) -> Evaluator:
        payload = json.loads(path.read_text(encoding="utf-8"))
        gb = GrowthBook(features=payload["features"])
        set_attributes, get_feature_value = gb.set_attributes, gb.get_feature_value

        def bool_value(key: str, ctx: Any) -> Any:
            set_attributes(ctx)
            return get_feature_value(key, False)

        def str_value(key: str, ctx: Any) -> Any:
            set_attributes(ctx)
            return get_feature_value(key, "")

        def all_four(ctx: Any) -> tuple[Any, ...]:
            # One request sets the attributes once and reads four features.
            set_attributes(ctx)
            return (
                get_feature_value("constant", False),
                get_feature_value("rollout-10", False),
                get_feature_value("rule", False),
                get_feature_value("split", ""),
            )

        return Evaluator(
            context=_context,
            bool_value=bool_value,
            str_value=str_value,
            close=gb.destroy,
            all_four=all_four,
        )


ADAPTER = GrowthBookAdapter()
