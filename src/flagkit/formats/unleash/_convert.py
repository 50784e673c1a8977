"""Convert an Unleash document into flagkit's native format, where the native format can say it.

A feature is converted only when the native flag serves the same value
and variant as the Unleash feature (``"enabled"`` / ``"disabled"``, as
flagkit names them) for every *flat* context of *string* values, which is
Unleash's own context model; the note each conversion carries says so,
and says that the native flag reads ``userId`` itself (the Unleash format
also falls back to ``targetingKey``). What converts:

- ``enabled: false`` -> ``enabled: false`` serving ``"disabled"``;
- no strategies, or a strategy that always holds -> ``default: enabled``;
- ``default``, ``userWithId`` (``in`` on ``userId``), and percentage
  rollouts of exactly 0% or 100%, each with constraints that are ``IN`` or
  case-sensitive ``STR_CONTAINS`` / ``STR_STARTS_WITH`` / ``STR_ENDS_WITH``,
  not inverted -> one rule per strategy, in order;
- dependencies on converted parents (enabled or disabled, no variant list)
  -> prerequisites.

Everything else has no exact native form and is reported, with its
location: a rollout strictly between 0% and 100% or variants (Unleash
hashes ``groupId:key`` modulo 100; native rollouts scale the hash), and
the operators whose Unleash semantics the native ones do not share
(``NOT_IN`` and inverted constraints hold for missing values; numbers,
dates, versions, regexes and addresses parse strings differently).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flagkit.formats._problems import dotted
from flagkit.formats.flagd import Conversion
from flagkit.formats.unleash._compile import DISABLED, ENABLED
from flagkit.formats.unleash._model import (
    Constraint,
    Feature,
    Strategy,
    UnleashDocument,
    validate_unleash_document,
)

__all__ = ["convert_unleash"]

_STRING_OPS = {
    "STR_CONTAINS": "contains",
    "STR_STARTS_WITH": "starts_with",
    "STR_ENDS_WITH": "ends_with",
}
_ROLLOUTS = {
    "flexibleRollout": ("rollout", None),
    "gradualRolloutUserId": ("percentage", "userId"),
    "gradualRolloutSessionId": ("percentage", "sessionId"),
    "gradualRolloutRandom": ("percentage", None),
}
NOTE = (
    "converted features serve what Unleash serves for flat contexts of string values "
    "(Unleash's context model); the native flags read `userId` itself, not `targetingKey`"
)


class _Refused(Exception):
    """A construct with no exact native form (the message says which, and where)."""


def convert_unleash(raw: Any, *, source: str | None = None) -> Conversion:
    """Convert a parsed Unleash document; raise DefinitionError if it is not a valid one."""
    document = validate_unleash_document(raw, source=source)
    flags: dict[str, Any] = {}
    conversion = Conversion(document={"version": 1, "flags": flags})
    # Parents first: a prerequisite must name a converted flag.
    ordered = sorted(
        document.features.items(), key=lambda item: bool(item[1] and item[1].dependencies)
    )
    for key, feature in ordered:
        try:
            if feature is None:
                raise _Refused("the feature is invalid")
            flags[key] = _flag(key, feature, document, flags)
        except _Refused as exc:
            conversion.problems.append(f"flags.{key}: {exc}")
            continue
        conversion.converted.append(key)
    conversion.document["flags"] = {k: flags[k] for k in document.features if k in flags}
    if conversion.converted:
        conversion.notes.append(NOTE)
    return conversion


def _flag(
    key: str, feature: Feature, document: UnleashDocument, converted: Mapping[str, Any]
) -> dict[str, Any]:
    flag: dict[str, Any] = {
        "variants": {ENABLED: True, DISABLED: False},
        "off_variant": DISABLED,
    }
    if feature.description:
        flag["description"] = feature.description
    if feature.impression_data:
        flag["track_exposure"] = True
    if feature.variants or any(s.variants for s in feature.strategies or ()):
        raise _Refused("variants: Unleash hashes `groupId:key` modulo the weights; no native form")
    if not feature.enabled:
        return {**flag, "enabled": False, "default": DISABLED}
    prerequisites = []
    for index, dependency in enumerate(feature.dependencies or ()):
        where = dotted(("dependencies", index))
        if dependency.variants:
            raise _Refused(f"{where}: a dependency on variants has no native form")
        if dependency.feature not in converted:
            raise _Refused(f"{where}: parent {dependency.feature!r} is missing or not converted")
        variant = DISABLED if dependency.enabled is False else ENABLED
        prerequisites.append({"flag": dependency.feature, "variants": [variant]})
    if prerequisites:
        flag["prerequisites"] = prerequisites
    rules: list[dict[str, Any]] = []
    default = DISABLED if feature.strategies else ENABLED
    for index, strategy in enumerate(feature.strategies or ()):
        conditions = _strategy(strategy, index, document)
        if conditions is None:
            continue  # never holds
        if not conditions:
            default = ENABLED  # holds for everyone: later strategies never decide
            break
        rules.append({"name": f"strategies[{index}]", "when": conditions, "serve": ENABLED})
    if rules:
        flag["rules"] = rules
    flag["default"] = default
    return flag


def _strategy(
    strategy: Strategy, index: int, document: UnleashDocument
) -> list[dict[str, Any]] | None:
    """Return a strategy's native conditions ([] always holds), or None if it never holds."""
    where = dotted(("strategies", index))
    parameters = strategy.parameters or {}
    conditions: list[dict[str, Any]] = []
    if strategy.name == "userWithId":
        ids = [i.strip() for i in parameters.get("userIds", "").split(",")]
        if "userIds" not in parameters:
            return None
        conditions.append({"attribute": "userId", "op": "in", "values": ids})
    elif strategy.name in _ROLLOUTS:
        name, field = _ROLLOUTS[strategy.name]
        percent = parameters.get(name, "")
        if percent not in ("0", "100"):
            raise _Refused(
                f"{where}: a {percent or '?'}% rollout: Unleash hashes `groupId:key` modulo 100 "
                "and native rollouts scale the hash, so users would move"
            )
        if percent == "0":
            return None
        stickiness = field or parameters.get("stickiness") or "default"
        if stickiness not in ("default", "random"):
            conditions.append({"attribute": stickiness, "op": "exists"})
    elif strategy.name != "default":
        raise _Refused(f"{where}: strategy {strategy.name!r} has no native form")
    constraints = list(strategy.constraints or ())
    for segment_id in strategy.segments or ():
        segment = document.segments.get(segment_id)
        if segment is None:
            raise _Refused(f"{where}: segment {segment_id} does not exist")
        constraints.extend(segment.constraints)
    for position, constraint in enumerate(constraints):
        condition = _condition(constraint, f"{where}.constraints[{position}]")
        if condition is None:
            return None
        conditions.append(condition)
    return conditions


def _condition(constraint: Constraint, where: str) -> dict[str, Any] | None:
    """Return the native condition of a constraint, or None if it never holds."""
    op = constraint.operator
    if constraint.inverted:
        raise _Refused(f"{where}: an inverted constraint also holds for a missing value")
    if op == "IN":
        values = list(constraint.values or ())
        if not values:
            return None
        return {"attribute": constraint.context_name, "op": "in", "values": values}
    if op in _STRING_OPS and not constraint.case_insensitive and constraint.values:
        return {
            "attribute": constraint.context_name,
            "op": _STRING_OPS[op],
            "values": list(constraint.values),
        }
    raise _Refused(f"{where}: {op} has no exact native form")
