"""Unleash: a bootstrapped ``FileCache``, ``initialize_client(fetch_toggles=False)``.

Setup per the README's bootstrapping section: the client-API features JSON is
loaded with ``FileCache.bootstrap_from_file``; ``fetch_toggles=False`` swaps the
polling connector for the offline one that reads only the cache;
``disable_metrics`` and ``disable_registration`` keep it off the network.  The
URL is a placeholder that is never contacted.  Evaluation runs in the Rust
``yggdrasil`` engine the SDK bundles.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from UnleashClient import UnleashClient
from UnleashClient.cache import FileCache

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, User, extra_rules

from .base import Evaluator, write_json

_instances = itertools.count()


def _rule_feature(name: str, countries: tuple[str, ...], plan: str) -> dict[str, Any]:
    constraints = [
        {"contextName": "country", "operator": "IN", "values": list(countries)},
        {"contextName": "plan", "operator": "IN", "values": [plan]},
    ]
    return {
        "name": name,
        "enabled": True,
        "strategies": [{"name": "default", "parameters": {}, "constraints": constraints}],
    }


def _rollout(percent: int, group: str) -> dict[str, Any]:
    return {
        "name": "flexibleRollout",
        "parameters": {"rollout": str(percent), "stickiness": "userId", "groupId": group},
    }


def document(total_flags: int) -> dict[str, Any]:
    """Return the Unleash client-API features document for the workload."""
    features = [
        {
            "name": "constant",
            "enabled": True,
            "strategies": [{"name": "default", "parameters": {}}],
        },
        {"name": "rollout-10", "enabled": True, "strategies": [_rollout(10, "rollout-10")]},
        _rule_feature("rule", RULE_COUNTRIES, "pro"),
        {
            "name": "split",
            "enabled": True,
            "strategies": [_rollout(100, "split")],
            # Variant weights are in tenths of a percent (sum 1000).
            "variants": [
                {
                    "name": name,
                    "weight": weight * 10,
                    "weightType": "variable",
                    "stickiness": "userId",
                    "payload": {"type": "string", "value": name},
                }
                for name, weight in SPLIT_WEIGHTS
            ],
        },
    ]
    features += [
        _rule_feature(extra.key, extra.countries, extra.plan) for extra in extra_rules(total_flags)
    ]
    return {"version": 1, "features": features}


def _context(user: User) -> dict[str, Any]:
    return {
        "userId": user.key,
        "properties": {"country": user.country, "plan": user.plan, "version": user.version},
    }


class UnleashAdapter:
    name = "unleash"
    distributions = ("UnleashClient", "yggdrasil-engine")

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "unleash.json")

    def load(self, path: Path) -> Evaluator:
        cache_dir = tempfile.mkdtemp(prefix="unleash-cache-")
        cache = FileCache("flag-benchmark", directory=cache_dir)
        cache.bootstrap_from_file(path)
        client = UnleashClient(
            url="http://unleash.invalid/api",
            app_name="flag-benchmark",
            instance_id=f"benchmark-{next(_instances)}",
            disable_metrics=True,
            disable_registration=True,
            cache=cache,
        )
        client.initialize_client(fetch_toggles=False)
        is_enabled, get_variant = client.is_enabled, client.get_variant

        def bool_value(key: str, ctx: Any) -> Any:
            return is_enabled(key, ctx)

        def str_value(key: str, ctx: Any) -> Any:
            return get_variant(key, ctx)["name"]

        return Evaluator(
            context=_context, bool_value=bool_value, str_value=str_value, close=client.destroy
        )


ADAPTER = UnleashAdapter()
