"""Explain one evaluation: a trace of every step that decided a flag's value.

The trace walks the flag's ``Plan``, the same plan the evaluator was
rendered from, and tests each check and serves each serve through
fragments rendered from the evaluator's own templates
(``codegen.check_function``, ``codegen.serve_function``). It therefore
runs the code evaluation runs and cannot disagree with it
(``tests/property/test_explain_properties.py`` checks that over generated
documents). The hot path is untouched: explaining is a separate, slower walk.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from flagkit._core import rollouts
from flagkit._core.codegen import check_function, serve_function
from flagkit._core.conditions import MISSING
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.plan import Call, Check, Ramp, Serve, Split
from flagkit._core.snapshot import CompiledFlag, Outcome, Snapshot
from flagkit._core.timeutil import iso_instant
from flagkit._types import ContextLike

__all__ = [
    "ConditionStep",
    "Explanation",
    "PrerequisiteStep",
    "RampStep",
    "RolloutStep",
    "RuleStep",
    "VariantRange",
    "explain",
    "explain_flag",
]


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

    variant: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RampStep:
    """A step of a scheduled ramp: step 0 is the rollout's own weights (percentages)."""

    step: int
    at: str | None
    weights: dict[str | None, float]


@dataclass(frozen=True, slots=True)
class RolloutStep:
    """A rollout: the bucketing attribute, the bucket, and the ranges it fell in."""

    by: str
    salt: str
    value: Any
    bucket: int | None
    total: int
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
    """Why a flag resolved as it did, step by step, and what it resolved to."""

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
    rule: str | None = None
    bucket: int | None = None
    targeting: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the trace as JSON-ready data."""
        data: dict[str, Any] = asdict(self)
        return data


def explain(snapshot: Snapshot, flag_key: str, context: ContextLike) -> Explanation:
    """Return the trace of evaluating ``flag_key`` of ``snapshot`` for ``context``."""
    flag = snapshot.flags.get(flag_key)
    if flag is None:
        return Explanation(
            flag=flag_key,
            found=False,
            enabled=False,
            prerequisites=[],
            rules=[],
            decided_by="-",
            rollout=None,
            variant=None,
            value=None,
            reason=Reason.ERROR.value,
            error_code=ErrorCode.FLAG_NOT_FOUND.value,
            error_message="no such flag",
        )
    return explain_flag(flag, context)


@dataclass(slots=True)
class _Walk:
    """The steps of one flag's evaluation so far."""

    key: str
    enabled: bool
    prerequisites: list[PrerequisiteStep] = field(default_factory=list)
    rules: list[RuleStep] = field(default_factory=list)

    def result(
        self,
        decided_by: str,
        outcome: Outcome,
        rollout: RolloutStep | None = None,
        targeting: str | None = None,
    ) -> Explanation:
        resolution, bucket = outcome
        return Explanation(
            flag=self.key,
            found=True,
            enabled=self.enabled,
            prerequisites=self.prerequisites,
            rules=self.rules,
            decided_by=decided_by,
            rollout=rollout,
            variant=resolution.variant,
            value=resolution.value if resolution.has_value else None,
            reason=resolution.reason.value,
            error_code=None if resolution.error_code is None else resolution.error_code.value,
            error_message=resolution.error_message,
            rule=resolution.rule,
            bucket=bucket,
            targeting=targeting,
        )


def explain_flag(flag: CompiledFlag, ctx: ContextLike) -> Explanation:
    """Walk ``flag``'s plan for ``ctx``, step by step, as its evaluator runs it."""
    plan = flag.plan
    walk = _Walk(flag.key, plan.disabled is None)
    if plan.disabled is not None:
        return walk.result("disabled", plan.disabled)
    for gate in plan.gates:
        sub = explain_flag(gate.flag, ctx)
        passed = sub.variant in gate.allowed
        walk.prerequisites.append(
            PrerequisiteStep(gate.flag.key, sorted(gate.allowed), passed, sub)
        )
        if not passed:
            return walk.result("prerequisite", gate.failed)
    for index, rule in enumerate(plan.rules):
        conditions = [_condition(check, ctx) for check in rule.checks]
        matched = all(c.matched for c in conditions)
        walk.rules.append(RuleStep(index, rule.name, matched, conditions))
        if matched:
            return _serve(walk, rule.serve, ctx, rule.name)
    return _serve(walk, plan.default, ctx, "default")


def _read(attribute: str, getter: Any, ctx: ContextLike) -> Any:
    return getter(ctx) if getter is not None else ctx.get(attribute, MISSING)


def _condition(check: Check, ctx: ContextLike) -> ConditionStep:
    if check.op == "in_segment":
        actual: Any = [name for name, member in check.segments if member(ctx)]
        present = True
    else:
        actual = _read(check.attribute, check.getter, ctx)
        present = actual is not MISSING
    return ConditionStep(
        attribute=check.attribute or None,
        op=check.op,
        expected=list(check.operands),
        negate=check.negate,
        present=present,
        actual=actual if present else None,
        matched=bool(check_function(check)(ctx)),
    )


def _serve(walk: _Walk, serve: Serve, ctx: ContextLike, decided_by: str) -> Explanation:
    if isinstance(serve, Ramp):
        index = serve.step_at(serve.clock())
        split = serve.steps[index]
        rollout = _rollout(split, ctx, _ramp_step(serve, index), _ramp_step(serve, index + 1))
        return walk.result(decided_by, serve_function(split)(ctx), rollout)
    outcome = serve_function(serve)(ctx)
    if isinstance(serve, Split):
        return walk.result(decided_by, outcome, _rollout(serve, ctx, None, None))
    targeting = serve.description if isinstance(serve, Call) else None
    return walk.result(decided_by, outcome, targeting=targeting)


def _rollout(
    split: Split, ctx: ContextLike, current: RampStep | None, upcoming: RampStep | None
) -> RolloutStep:
    value = _read(split.attribute, split.getter, ctx)
    if split.fallback is not None and (value is None or value is MISSING):
        value = split.fallback(ctx)
    # A format that does not report buckets (flagd) still has one: the same
    # template, rendered to report it, shows it in the trace.
    _, bucket = serve_function(replace(split, report_bucket=True))(ctx)
    return RolloutStep(
        by=split.attribute,
        salt=split.salt,
        value=None if value is MISSING else value,
        bucket=bucket,
        total=split.total,
        ranges=[
            VariantRange(resolution.variant, start, end)
            for resolution, start, end in rollouts.ranges(split.weights)
        ],
        current_step=current,
        next_step=upcoming,
    )


def _ramp_step(ramp: Ramp, index: int) -> RampStep | None:
    if index >= len(ramp.steps):
        return None
    split = ramp.steps[index]
    weights = {r.variant: w * 100 / split.total for r, w in split.weights}
    at = None if index == 0 else iso_instant(ramp.times[index - 1])
    return RampStep(index, at, weights)
