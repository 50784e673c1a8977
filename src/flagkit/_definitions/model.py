"""The native flag document: what a flag file may say (pydantic models).

This module describes *shape*; cross-references (variants, segments,
prerequisites) are checked by ``_validate``. The evaluation core never sees
these models: ``_compile`` turns them into plain frozen objects.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    StrictStr,
    Tag,
    WithJsonSchema,
)

__all__ = [
    "OPERATORS",
    "SERVE_TAGS",
    "Condition",
    "Document",
    "Flag",
    "Guard",
    "GuardMetric",
    "Operator",
    "Prerequisite",
    "Rollout",
    "RolloutStep",
    "Rule",
    "Segment",
    "SegmentRule",
    "Serve",
    "ServeRollout",
    "ServeVariant",
    "VariantValue",
]

Operator = Literal[
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "lt",
    "lte",
    "gt",
    "gte",
    "semver_eq",
    "semver_lt",
    "semver_lte",
    "semver_gt",
    "semver_gte",
    "before",
    "after",
    "exists",
    "in_segment",
]
OPERATORS: tuple[str, ...] = get_args(Operator)


def _check_scalar(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.date):  # an unquoted YAML/TOML date-time
        return value.isoformat()
    raise ValueError("must be a string, number or boolean")


#: Bounds on variant values: 64-bit integers, finite floats, objects nested
#: at most this deep (values are copied for every caller, recursively).
MAX_VARIANT_DEPTH = 32
_INT_LIMIT = 2**63


def _check_variant_value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        _check_number(value)
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        _check_json(value)
        return value
    raise ValueError("must be a boolean, string, number or JSON object")


def _check_number(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -_INT_LIMIT <= value < _INT_LIMIT:
        raise ValueError("integers must fit in 64 bits")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")


def _check_json(value: Any) -> None:
    """Check a JSON object iteratively: bounded depth, bounded numbers, string keys."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_VARIANT_DEPTH:
            raise ValueError(f"objects may nest at most {MAX_VARIANT_DEPTH} levels deep")
        if isinstance(node, dict):
            if not all(isinstance(k, str) for k in node):
                raise ValueError("object keys must be strings")
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, int | float):
            _check_number(node)
        elif node is not None and not isinstance(node, str):
            raise ValueError(f"{type(node).__name__} is not a JSON value")


# One validator each instead of a union: a wrong value gets one clear error,
# not one per union member.
Scalar = Annotated[
    Any,
    AfterValidator(_check_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]
VariantValue = Annotated[
    Any,
    AfterValidator(_check_variant_value),
    WithJsonSchema({"type": ["boolean", "string", "number", "object"]}),
]
Key = Annotated[str, Field(min_length=1, max_length=256)]
Weight = Annotated[float, Field(ge=0, le=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: What the JSON Schema says beyond field shapes, as the loader enforces it: an
#: attribute for every operator but ``in_segment``, operands for every one but
#: ``exists``, and never both ``value`` and ``values``.
_CONDITION_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"op": {"const": "in_segment"}}},
            "else": {"required": ["attribute"], "properties": {"attribute": {"type": "string"}}},
        },
        {
            "if": {"properties": {"op": {"not": {"const": "exists"}}}},
            "then": {
                "anyOf": [
                    {"required": ["value"], "properties": {"value": {"not": {"type": "null"}}}},
                    {
                        "required": ["values"],
                        "properties": {"values": {"type": "array", "minItems": 1}},
                    },
                ]
            },
        },
        {
            "not": {
                "required": ["value", "values"],
                "properties": {
                    "value": {"not": {"type": "null"}},
                    "values": {"not": {"type": "null"}},
                },
            }
        },
    ]
}


class Condition(_Strict):
    """One test of one context attribute."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_CONDITION_RULES)

    def operands(self) -> list[Any]:
        """Return the operands: ``values``, or ``[value]``, or none."""
        if self.values is not None:
            return list(self.values)
        return [] if self.value is None else [self.value]

    attribute: Annotated[str, Field(min_length=1)] | None = Field(
        default=None,
        description="Context attribute, dotted for nested values (org.plan); "
        "'targetingKey' is the targeting key. Not used by in_segment.",
    )
    op: Operator
    value: Scalar | None = Field(default=None, description="The operand (or use 'values').")
    values: list[Scalar] | None = Field(
        default=None, description="Operands; the condition holds when any of them does."
    )
    negate: bool = Field(default=False, description="Invert the result for a present value.")


class SegmentRule(_Strict):
    """A rule inside a segment: all its conditions must hold."""

    name: str | None = None
    when: list[Condition] = Field(min_length=1)


class Segment(_Strict):
    """A reusable group of contexts: keys excluded, keys included, then rules."""

    description: str | None = None
    by: str = Field(default="targetingKey", description="Attribute compared with include/exclude.")
    include: list[StrictStr | StrictInt] = Field(default_factory=list)
    exclude: list[StrictStr | StrictInt] = Field(default_factory=list)
    rules: list[SegmentRule] = Field(default_factory=list)


class RolloutStep(_Strict):
    """From ``at`` on, the rollout uses these weights."""

    at: dt.datetime
    weights: dict[str, Weight] = Field(min_length=1)


GuardMetricKind = Literal["error_rate", "latency", "event_rate", "event_mean"]


class GuardMetric(_Strict):
    """One outcome a guard watches, and the smallest regression of it worth stopping for."""

    metric: GuardMetricKind = Field(
        description="error_rate (errors per call), latency (share of calls slower than the "
        "control's quantile), event_rate (tracked events per call) or event_mean (mean value "
        "of a tracked event)."
    )
    effect: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        description="The smallest difference worth stopping for, in the metric's units."
    )
    worse: Literal["higher", "lower"] | None = Field(
        default=None,
        description="Which direction is a regression; 'higher' for error_rate and latency, "
        "required for event metrics.",
    )
    quantile: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        default=None, description="latency only: the control's quantile (default 0.95)."
    )
    event: Key | None = Field(default=None, description="event metrics: the tracked event.")


class Guard(_Strict):
    """Compare the rollout's variants with its control and act on a regression."""

    control: Key = Field(description="The variant the others are compared with.")
    metrics: list[GuardMetric] = Field(min_length=1, max_length=16)
    alpha: Annotated[float, Field(gt=0, le=0.5)] = Field(
        default=0.05, description="The false-alarm rate, shared by every metric and variant."
    )
    min_sample: Annotated[int, Field(ge=1, le=1_000_000_000)] = Field(
        default=500, description="Calls each variant needs before the test runs."
    )
    action: Literal["pause", "rollback"] = Field(
        default="rollback",
        description="rollback serves the control to everyone; pause holds a ramp's step.",
    )


class Rollout(_Strict):
    """Weighted variants chosen by bucket; optionally ramped on a schedule."""

    weights: dict[str, Weight] = Field(
        min_length=1,
        description="Variant -> percentage (0.01 granularity), in declared order, summing to 100.",
    )
    by: str = Field(default="targetingKey", description="Bucketing attribute (dotted path).")
    salt: str | None = Field(default=None, description="Hash salt; defaults to the flag key.")
    schedule: list[RolloutStep] = Field(
        default_factory=list,
        description="Ramp steps in time order; before the first, 'weights' apply.",
    )
    guard: Guard | None = Field(
        default=None, description="Watch the rollout's outcomes and act on a regression."
    )


class ServeVariant(_Strict):
    """Serve one variant."""

    variant: Key


class ServeRollout(_Strict):
    """Serve a variant picked by a rollout."""

    rollout: Rollout


#: Union tags, dropped from error locations by the loader.
SERVE_TAGS = frozenset({"<name>", "<variant>", "<rollout>"})


def _serve_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "<name>"
    if isinstance(value, dict):
        return "<rollout>" if "rollout" in value else "<variant>"
    if isinstance(value, ServeVariant):
        return "<variant>"
    if isinstance(value, ServeRollout):
        return "<rollout>"
    return None


Serve = Annotated[
    Annotated[Key, Tag("<name>")]
    | Annotated[ServeVariant, Tag("<variant>")]
    | Annotated[ServeRollout, Tag("<rollout>")],
    Discriminator(
        _serve_tag,
        custom_error_type="serve",
        custom_error_message="must be a variant name, {variant: ...} or {rollout: ...}",
    ),
]


class Rule(_Strict):
    """A targeting rule: when every condition holds, serve."""

    name: str | None = None
    when: list[Condition] = Field(min_length=1)
    serve: Serve


class Prerequisite(_Strict):
    """This flag is served only when ``flag`` serves one of ``variants``."""

    flag: Key
    variants: list[Key] = Field(min_length=1)


class Flag(_Strict):
    """One feature flag."""

    description: str | None = None
    kind: Literal["release", "experiment", "ops", "permission"] = "release"
    owner: str | None = None
    expires: dt.date | None = None
    tags: list[str] = Field(default_factory=list)
    enabled: bool = Field(default=True, description="The kill switch: false serves off_variant.")
    variants: dict[Key, VariantValue] = Field(min_length=1)
    off_variant: Key | None = Field(
        default=None, description="Served when disabled; absent means the caller's default."
    )
    prerequisites: list[Prerequisite] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    default: Serve = Field(description="Served when no rule matches (the fallthrough).")
    track_exposure: bool | None = Field(
        default=None, description="Emit exposure events; defaults to true for experiments."
    )


class Document(_Strict):
    """A native flagkit flag document."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str | None = Field(default=None, alias="$schema")
    version: Literal[1] = 1
    segments: dict[Key, Segment] = Field(default_factory=dict)
    flags: dict[Key, Flag] = Field(default_factory=dict)
