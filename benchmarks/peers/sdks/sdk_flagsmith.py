"""Flagsmith: offline mode with ``LocalFileHandler`` over an environment document.

Setup per the server-side SDK docs' offline section: ``Flagsmith(offline_mode=True,
offline_handler=LocalFileHandler(path))`` needs no environment key and never
calls the API; analytics and realtime updates stay off (their defaults).  A
``default_flag_handler`` answers for unknown features, as the docs recommend.
Flagsmith's per-request API is ``get_identity_flags(identifier, traits)``, which
evaluates every feature for the identity; single-flag calls therefore pay for
the whole environment.  Rollouts are a ``PERCENTAGE_SPLIT`` segment and a
multivariate feature (md5-based bucketing, so shares are compared, not users).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flagsmith import Flagsmith
from flagsmith.exceptions import FlagsmithFeatureDoesNotExistError
from flagsmith.offline_handlers import LocalFileHandler

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, User, extra_rules

from .base import Evaluator, write_json


def _feature(feature_id: int, name: str) -> dict[str, Any]:
    return {"id": feature_id, "name": name, "type": "STANDARD"}


def _state(feature: dict[str, Any], enabled: bool, value: Any, **fields: Any) -> dict[str, Any]:
    state = {
        "feature": feature,
        "enabled": enabled,
        "feature_state_value": value,
        "django_id": feature["id"] * 10 + (1 if "feature_segment" in fields else 0),
        "multivariate_feature_state_values": [],
    }
    state.update(fields)
    return state


def _condition(operator: str, prop: str | None, value: str) -> dict[str, Any]:
    return {"operator": operator, "property_": prop, "value": value}


def _segment(segment_id: int, conditions: list[dict[str, Any]], override: dict[str, Any]):
    return {
        "id": segment_id,
        "name": f"segment-{segment_id}",
        "rules": [
            {
                "type": "ALL",
                "conditions": [],
                "rules": [{"type": "ALL", "conditions": conditions, "rules": []}],
            }
        ],
        "feature_states": [override],
    }


def _rule_parts(
    feature_id: int, name: str, countries: tuple[str, ...], plan: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    feature = _feature(feature_id, name)
    override = _state(feature, True, None, feature_segment={"priority": 0})
    conditions = [
        _condition("IN", "country", ",".join(countries)),
        _condition("EQUAL", "plan", plan),
    ]
    return _state(feature, False, None), _segment(feature_id, conditions, override)


def document(total_flags: int) -> dict[str, Any]:
    """Return the Flagsmith environment document for the workload."""
    constant = _feature(1, "constant")
    rollout = _feature(2, "rollout-10")
    split = _feature(4, "split")
    rollout_override = _state(rollout, True, None, feature_segment={"priority": 0})
    rule_state, rule_segment = _rule_parts(3, "rule", RULE_COUNTRIES, "pro")
    (_, control_weight), *others = SPLIT_WEIGHTS
    states = [
        _state(constant, True, None),
        _state(rollout, False, None),
        rule_state,
        _state(
            split,
            True,
            SPLIT_WEIGHTS[0][0],
            # The control value takes what the options leave: 100 - 33 - 33 = 34.
            multivariate_feature_state_values=[
                {
                    "id": index + 1,
                    "percentage_allocation": weight,
                    "multivariate_feature_option": {"id": index + 1, "value": name},
                }
                for index, (name, weight) in enumerate(others)
            ],
        ),
    ]
    assert control_weight == 100 - sum(weight for _, weight in others)
    segments = [_segment(2, [_condition("PERCENTAGE_SPLIT", None, "10")], rollout_override)]
    segments.append(rule_segment)
    for offset, extra in enumerate(extra_rules(total_flags)):
        state, segment = _rule_parts(100 + offset, extra.key, extra.countries, extra.plan)
        states.append(state)
        segments.append(segment)
    return {
        "api_key": "offline-benchmark",
        "name": "benchmark",
        "feature_states": states,
        "identity_overrides": [],
        "project": {"id": 1, "name": "benchmark", "segments": segments},
    }


def _context(user: User) -> tuple[str, dict[str, str]]:
    return user.key, {"country": user.country, "plan": user.plan, "version": user.version}


class FlagsmithAdapter:
    name = "flagsmith"
    distributions = ("flagsmith", "flagsmith-flag-engine")

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "flagsmith.json")

    def load(self, path: Path) -> Evaluator:
        client = Flagsmith(
            offline_mode=True,
            offline_handler=LocalFileHandler(str(path)),
        )
        get_identity_flags = client.get_identity_flags

        def bool_value(key: str, ctx: Any) -> Any:
            try:
                return get_identity_flags(ctx[0], ctx[1]).is_feature_enabled(key)
            except FlagsmithFeatureDoesNotExistError:
                return False

        def str_value(key: str, ctx: Any) -> Any:
            try:
                return get_identity_flags(ctx[0], ctx[1]).get_feature_value(key)
            except FlagsmithFeatureDoesNotExistError:
                return ""

        def all_four(ctx: Any) -> tuple[Any, ...]:
            # The documented per-request pattern: evaluate the identity once, read many.
            flags = get_identity_flags(ctx[0], ctx[1])
            return (
                flags.is_feature_enabled("constant"),
                flags.is_feature_enabled("rollout-10"),
                flags.is_feature_enabled("rule"),
                flags.get_feature_value("split"),
            )

        return Evaluator(
            context=_context,
            bool_value=bool_value,
            str_value=str_value,
            close=lambda: None,  # offline mode starts no threads
            all_four=all_four,
        )


ADAPTER = FlagsmithAdapter()
