"""Explain one evaluation: a trace of every step that decided a flag's value.

The trace walks the validated definition in the order the compiled evaluator
runs it, and uses the same compiled condition predicates, the same segment
predicates and the same bucketing formula, so it cannot disagree with
evaluation (``tests/cli/test_explain.py`` checks that over many contexts).
The evaluation hot path is untouched: explaining is a separate, slower walk.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from flagkit._cli.common import iso_instant
from flagkit._cli.output import to_json
from flagkit._core.bucketing import PERCENT_TOTAL, bucket_of, bucketing_key
from flagkit._core.compile import compile_segments
from flagkit._core.conditions import MISSING, Predicate, attribute_getter, compile_condition
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.snapshot import Snapshot
from flagkit._definitions.model import Condition, Flag, Rollout, Serve, ServeRollout, ServeVariant
from flagkit._definitions.validate import weights_in_hundredths
from flagkit._types import ContextLike

__all__ = ["Explanation", "explain", "render_explanation", "variant_ranges"]


@dataclass(frozen=True, slots=True)
class ConditionStep:
    """One condition: what was expected, what the context had, and the result."""

    attribute: str | None
    op: str
    expected: list[Any]
    negate: bool
    present: bool
    actual: Any
    matched: bool


@dataclass(frozen=True, slots=True)
class RuleStep:
    """One rule tried: it matches when every condition does."""

    index: int
    name: str
    matched: bool
    conditions: list[ConditionStep]


@dataclass(frozen=True, slots=True)
class VariantRange:
    """The buckets ``[start, end)`` that get ``variant``."""

    variant: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RampStep:
    """A step of a scheduled ramp: step 0 is the rollout's own weights."""

    step: int
    at: str | None
    weights: dict[str, float]


@dataclass(frozen=True, slots=True)
class RolloutStep:
    """A rollout: the bucketing attribute, the bucket, and the ranges it fell in."""

    by: str
    salt: str
    value: Any
    bucket: int | None
    ranges: list[VariantRange]
    current_step: RampStep | None
    next_step: RampStep | None


@dataclass(frozen=True, slots=True)
class PrerequisiteStep:
    """A prerequisite: the flag's own explanation and whether it served an allowed variant."""

    flag: str
    variants: list[str]
    passed: bool
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a flag resolved as it did, step by step."""

    flag: str
    found: bool
    enabled: bool
    prerequisites: list[PrerequisiteStep]
    rules: list[RuleStep]
    decided_by: str
    rollout: RolloutStep | None
    variant: str | None
    value: Any
    reason: str
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the trace as JSON-ready data."""
        data: dict[str, Any] = asdict(self)
        return data


def variant_ranges(weights: Mapping[str, float]) -> list[VariantRange]:
    """Return the bucket range of each variant, in declared order (as compiled)."""
    ranges: list[VariantRange] = []
    start = 0
    for variant, weight in (weights_in_hundredths(weights) or {}).items():
        ranges.append(VariantRange(variant, start, start + weight))
        start += weight
    return ranges


def explain(snapshot: Snapshot, flag_key: str, context: ContextLike, *, now: float) -> Explanation:
    """Return the trace of evaluating ``flag_key`` for ``context`` at time ``now``."""
    segments = compile_segments(snapshot.document.segments)
    return _Explainer(snapshot, segments, now).flag(flag_key, context)


@dataclass(slots=True)
class _Walk:
    """The steps of one flag's evaluation so far."""

    key: str
    enabled: bool
    variants: Mapping[str, Any]
    prerequisites: list[PrerequisiteStep] = field(default_factory=list)
    rules: list[RuleStep] = field(default_factory=list)

    def result(
        self,
        decided_by: str,
        variant: str | None,
        reason: Reason,
        rollout: RolloutStep | None = None,
        error: tuple[ErrorCode, str] | None = None,
    ) -> Explanation:
        value = None if variant is None else self.variants[variant]
        return Explanation(
            flag=self.key,
            found=True,
            enabled=self.enabled,
            prerequisites=self.prerequisites,
            rules=self.rules,
            decided_by=decided_by,
            rollout=rollout,
            variant=variant,
            value=value,
            reason=reason.value,
            error_code=None if error is None else error[0].value,
            error_message=None if error is None else error[1],
        )


class _Explainer:
    def __init__(self, snapshot: Snapshot, segments: Mapping[str, Predicate], now: float) -> None:
        self._snapshot = snapshot
        self._segments = segments
        self._now = now

    def flag(self, key: str, ctx: ContextLike) -> Explanation:
        compiled = self._snapshot.flags.get(key)
        if compiled is None:
            error = (ErrorCode.FLAG_NOT_FOUND, "no such flag")
            unknown = _Walk(key, enabled=False, variants={})
            return replace(unknown.result("-", None, Reason.ERROR, error=error), found=False)
        flag: Flag = compiled.definition
        walk = _Walk(key, flag.enabled, compiled.variants)
        if not flag.enabled:
            return walk.result("disabled", flag.off_variant, Reason.DISABLED)
        for prerequisite in flag.prerequisites:
            sub = self.flag(prerequisite.flag, ctx)
            passed = sub.variant in prerequisite.variants
            walk.prerequisites.append(
                PrerequisiteStep(prerequisite.flag, list(prerequisite.variants), passed, sub)
            )
            if not passed:
                return walk.result("prerequisite", flag.off_variant, Reason.PREREQUISITE_FAILED)
        for index, rule in enumerate(flag.rules):
            conditions = [self.condition(c, ctx) for c in rule.when]
            name = rule.name or f"rules[{index}]"
            matched = all(c.matched for c in conditions)
            walk.rules.append(RuleStep(index, name, matched, conditions))
            if matched:
                return self.serve(walk, rule.serve, ctx, name, Reason.TARGETING_MATCH)
        reason = Reason.STATIC if not flag.rules and not flag.prerequisites else Reason.DEFAULT
        return self.serve(walk, flag.default, ctx, "default", reason)

    def condition(self, condition: Condition, ctx: ContextLike) -> ConditionStep:
        operands = condition.operands()
        predicate = compile_condition(
            condition.attribute, condition.op, operands, condition.negate, self._segments
        )
        if condition.op == "in_segment":
            actual: Any = [name for name in operands if self._segments[name](ctx)]
        else:
            actual = attribute_getter(condition.attribute or "targetingKey")(ctx)
        present = actual is not MISSING
        return ConditionStep(
            attribute=condition.attribute,
            op=condition.op,
            expected=operands,
            negate=condition.negate,
            present=present,
            actual=actual if present else None,
            matched=predicate(ctx),
        )

    def serve(
        self, walk: _Walk, serve: Serve, ctx: ContextLike, decided_by: str, reason: Reason
    ) -> Explanation:
        if isinstance(serve, str | ServeVariant):
            variant = serve if isinstance(serve, str) else serve.variant
            return walk.result(decided_by, variant, reason)
        assert isinstance(serve, ServeRollout)
        rollout = self.rollout(walk.key, serve.rollout, ctx)
        if rollout.bucket is None:
            message = (
                f"bucketing attribute {serve.rollout.by!r} is missing or not a string or integer"
            )
            error = (ErrorCode.TARGETING_KEY_MISSING, message)
            return walk.result(decided_by, None, Reason.ERROR, rollout, error)
        bucket = rollout.bucket
        variant = next(r.variant for r in rollout.ranges if r.start <= bucket < r.end)
        return walk.result(decided_by, variant, Reason.SPLIT, rollout)

    def rollout(self, key: str, rollout: Rollout, ctx: ContextLike) -> RolloutStep:
        salt = key if rollout.salt is None else rollout.salt
        value = attribute_getter(rollout.by)(ctx)
        # The same acceptance as the compiled rollout (bucketing_key): strings
        # UTF-8 can encode, and 64-bit ints as their digits.
        text = bucketing_key(value)
        bucket = None if text is None else bucket_of(salt, text, PERCENT_TOTAL)
        current, upcoming = current_and_next_step(rollout, self._now)
        weights = rollout.weights if current is None else current.weights
        return RolloutStep(
            by=rollout.by,
            salt=salt,
            value=None if value is MISSING else value,
            bucket=bucket,
            ranges=variant_ranges(weights),
            current_step=current,
            next_step=upcoming,
        )


def current_and_next_step(rollout: Rollout, now: float) -> tuple[RampStep | None, RampStep | None]:
    """Return the ramp step in force at ``now`` and the one after it (None without a schedule)."""
    if not rollout.schedule:
        return None, None
    steps = [RampStep(0, None, dict(rollout.weights))] + [
        RampStep(i, iso_instant(step.at.timestamp()), dict(step.weights))
        for i, step in enumerate(rollout.schedule, 1)
    ]
    # The same instants as the compiled rollout (a naive time is read as local, as there).
    index = bisect.bisect_right([s.at.timestamp() for s in rollout.schedule], now)
    return steps[index], steps[index + 1] if index + 1 < len(steps) else None


# -- text rendering ---------------------------------------------------------------------


def _show(value: Any) -> str:
    return to_json(value)


def format_ranges(ranges: Sequence[VariantRange]) -> str:
    """Return ranges as ``on: [0, 1000)  off: [1000, 10000)``."""
    return "  ".join(f"{r.variant}: [{r.start}, {r.end})" for r in ranges)


def _weights(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{variant} {weight:g}%" for variant, weight in weights.items())


def render_explanation(explanation: Explanation, indent: str = "") -> str:
    """Return the trace as indented, human-readable lines."""
    e = explanation
    lines: list[str] = []
    outcome = f"variant {e.variant or '-'}, value {_show(e.value)}, reason {e.reason}"
    if e.error_code is not None:
        outcome += f", error {e.error_code}: {e.error_message}"
    lines.append(f"{indent}flag {e.flag}: {outcome}")
    if not e.found:
        return "\n".join(lines) + "\n"
    inner = indent + "  "
    if not e.enabled:
        lines.append(f"{inner}disabled: serves off_variant {e.variant or '(caller default)'}")
    for p in e.prerequisites:
        verdict = "passed" if p.passed else "FAILED"
        lines.append(
            f"{inner}prerequisite {p.flag} must serve {' or '.join(p.variants)}: "
            f"{verdict} (served {p.explanation.variant or '-'})"
        )
        lines.append(render_explanation(p.explanation, inner + "  ").rstrip("\n"))
    if e.decided_by == "prerequisite":
        lines.append(f"{inner}serves off_variant {e.variant or '(caller default)'}")
    for rule in e.rules:
        lines.append(f"{inner}rule {rule.name}: {'MATCH' if rule.matched else 'no match'}")
        lines.extend(f"{inner}  {_condition_line(c)}" for c in rule.conditions)
    if e.decided_by not in ("disabled", "prerequisite"):
        source = "default" if e.decided_by == "default" else f"rule {e.decided_by}"
        if e.rollout is None:
            lines.append(f"{inner}{source} serves {e.variant}")
        else:
            lines.extend(_rollout_lines(source, e.rollout, inner))
    return "\n".join(lines) + "\n"


def _condition_line(c: ConditionStep) -> str:
    mark = "ok  " if c.matched else "FAIL"
    expected = c.expected[0] if len(c.expected) == 1 else c.expected
    negate = "not " if c.negate else ""
    if c.op == "in_segment":
        actual = f"member of {_show(c.actual)}"
        return f"{mark} {negate}in_segment {_show(expected)}: {actual}"
    actual = _show(c.actual) if c.present else "(missing)"
    attribute = c.attribute or "targetingKey"
    return f"{mark} {attribute} {negate}{c.op} {_show(expected)}: actual {actual}"


def _rollout_lines(source: str, r: RolloutStep, indent: str) -> list[str]:
    value = _show(r.value) if r.value is not None else "(missing)"
    bucket = "none (not a string or integer)" if r.bucket is None else f"{r.bucket} of 10000"
    lines = [
        f"{indent}{source} serves a rollout by {r.by} = {value}, salt {_show(r.salt)}",
        f"{indent}  bucket: {bucket}",
        f"{indent}  ranges: {format_ranges(r.ranges)}",
    ]
    if r.current_step is not None:
        since = "the rollout's own weights" if r.current_step.at is None else r.current_step.at
        lines.append(f"{indent}  schedule: now step {r.current_step.step} (since {since})")
        if r.next_step is None:
            lines.append(f"{indent}  next: none, this is the last step")
        else:
            lines.append(
                f"{indent}  next: step {r.next_step.step} at {r.next_step.at}: "
                f"{_weights(r.next_step.weights)}"
            )
    return lines
