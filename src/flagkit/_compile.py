"""Compile a validated document into a Snapshot of plain closures.

Everything that can be decided once is decided here: operand sets are built,
patterns compiled, weights turned into cumulative integer bounds, and every
way a flag can resolve is allocated up front as a ``Resolution``. Evaluation
then only reads attributes, hashes, and compares.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from flagkit._bucketing import PERCENT_TOTAL
from flagkit._bucketing import _hash as murmur3
from flagkit._conditions import Predicate, all_of, attribute_getter, compile_condition, match_in
from flagkit._details import ErrorCode, Reason
from flagkit._model import Document, Flag, Rollout, Segment, Serve, ServeRollout, ServeVariant
from flagkit._snapshot import (
    CompiledFlag,
    Evaluator,
    FlagMeta,
    Outcome,
    Resolution,
    Snapshot,
    ValueType,
)
from flagkit._validate import value_type_of, weights_in_hundredths

__all__ = ["Clock", "compile_document", "compile_flags"]

Context = Mapping[str, Any]
Clock = Callable[[], float]


def compile_document(
    document: Document,
    *,
    origin: str = "<memory>",
    revision: str = "",
    clock: Clock = time.time,
) -> Snapshot:
    """Compile a validated document into an immutable snapshot."""
    flags = compile_flags(document.flags, document.segments, clock=clock)
    return Snapshot(
        flags=MappingProxyType(flags),
        origin=origin,
        loaded_at=time.time(),
        revision=revision,
        document=document,
    )


def compile_flags(
    flags: Mapping[str, Flag], segments: Mapping[str, Segment], *, clock: Clock = time.time
) -> dict[str, CompiledFlag]:
    """Compile flags (in prerequisite order) against their segments."""
    segment_predicates = {name: _compile_segment(seg) for name, seg in segments.items()}
    compiled: dict[str, CompiledFlag] = {}

    def build(key: str) -> CompiledFlag:
        done = compiled.get(key)
        if done is not None:
            return done
        flag = flags[key]
        prerequisites = [(build(p.flag), frozenset(p.variants)) for p in flag.prerequisites]
        result = _compile_flag(key, flag, segment_predicates, prerequisites, clock)
        compiled[key] = result
        return result

    for key in flags:
        build(key)
    return {key: compiled[key] for key in flags}


def _compile_segment(segment: Segment) -> Predicate:
    get = attribute_getter(segment.by)
    included = match_in(segment.include)
    excluded = match_in(segment.exclude)
    rules = tuple(
        all_of([compile_condition(c.attribute, c.op, c.operands(), c.negate) for c in r.when])
        for r in segment.rules
    )

    def in_segment(ctx: Context) -> bool:
        key = get(ctx)
        if excluded(key):
            return False
        if included(key):
            return True
        return any(rule(ctx) for rule in rules)

    return in_segment


def _compile_flag(
    key: str,
    flag: Flag,
    segments: Mapping[str, Predicate],
    prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]],
    clock: Clock,
) -> CompiledFlag:
    variants = flag.variants
    types = {value_type_of(v) for v in variants.values()}
    value_type: ValueType = "float" if types == {"int", "float"} else types.pop()  # type: ignore[assignment]
    if value_type == "float":
        variants = {k: float(v) for k, v in variants.items()}

    def resolution(variant: str | None, reason: Reason, rule: str | None = None) -> Resolution:
        if variant is None:
            return Resolution(key, reason=reason, rule=rule, has_value=False)
        return Resolution(key, value=variants[variant], variant=variant, reason=reason, rule=rule)

    meta = FlagMeta(
        description=flag.description,
        kind=flag.kind,
        owner=flag.owner,
        expires=flag.expires,
        tags=tuple(flag.tags),
    )
    track = flag.track_exposure if flag.track_exposure is not None else flag.kind == "experiment"

    evaluate: Evaluator
    if not flag.enabled:
        off = resolution(flag.off_variant, Reason.DISABLED).outcome
        evaluate = lambda ctx: off  # noqa: E731
    else:
        rules = [
            (
                all_of(
                    [
                        compile_condition(c.attribute, c.op, c.operands(), c.negate, segments)
                        for c in rule.when
                    ]
                ),
                _compile_serve(
                    key,
                    rule.serve,
                    resolution,
                    reason=Reason.TARGETING_MATCH,
                    rule=rule.name or f"rules[{i}]",
                    clock=clock,
                ),
            )
            for i, rule in enumerate(flag.rules)
        ]
        static = not rules and not prerequisites
        default = _compile_serve(
            key,
            flag.default,
            resolution,
            reason=Reason.STATIC if static else Reason.DEFAULT,
            rule=None,
            clock=clock,
        )
        evaluate = _chain(rules, default)
        if prerequisites:
            failed = resolution(flag.off_variant, Reason.PREREQUISITE_FAILED).outcome
            evaluate = _gate(prerequisites, failed, evaluate)

    return CompiledFlag(
        key,
        evaluate=evaluate,
        value_type=value_type,
        variants=variants,
        meta=meta,
        track_exposure=track,
        definition=flag,
    )


def _chain(rules: Sequence[tuple[Predicate, Evaluator]], default: Evaluator) -> Evaluator:
    """Return an evaluator trying ``rules`` in order, first match wins."""
    if not rules:
        return default
    if len(rules) == 1:
        ((matches, serve),) = rules

        def one_rule(ctx: Context) -> Outcome:
            return serve(ctx) if matches(ctx) else default(ctx)

        return one_rule
    items = tuple(rules)

    def ordered_rules(ctx: Context) -> Outcome:
        for matches, serve in items:
            if matches(ctx):
                return serve(ctx)
        return default(ctx)

    return ordered_rules


def _gate(
    prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]],
    failed: Outcome,
    evaluate: Evaluator,
) -> Evaluator:
    items = tuple((flag.evaluate, allowed) for flag, allowed in prerequisites)

    def gated(ctx: Context) -> Outcome:
        for prerequisite, allowed in items:
            if prerequisite(ctx)[0].variant not in allowed:
                return failed
        return evaluate(ctx)

    return gated


MakeResolution = Callable[[str | None, Reason, str | None], Resolution]


def _compile_serve(
    key: str,
    serve: Serve,
    resolution: MakeResolution,
    *,
    reason: Reason,
    rule: str | None,
    clock: Clock,
) -> Evaluator:
    if isinstance(serve, str | ServeVariant):
        name = serve if isinstance(serve, str) else serve.variant
        fixed = resolution(name, reason, rule).outcome
        return lambda ctx: fixed
    assert isinstance(serve, ServeRollout)
    return _compile_rollout(key, serve.rollout, resolution, rule, clock)


def _cumulative(
    weights: Mapping[str, float], resolution: MakeResolution, rule: str | None
) -> tuple[tuple[int, Resolution], ...]:
    """Return (upper bound, resolution) pairs: a bucket below the bound gets it."""
    scaled = weights_in_hundredths(weights) or {}
    bounds: list[tuple[int, Resolution]] = []
    total = 0
    for variant, weight in scaled.items():
        if weight:
            total += weight
            bounds.append((total, resolution(variant, Reason.SPLIT, rule)))
    return tuple(bounds)


def _compile_rollout(
    key: str,
    rollout: Rollout,
    resolution: MakeResolution,
    rule: str | None,
    clock: Clock,
) -> Evaluator:
    get = attribute_getter(rollout.by)
    salt = key if rollout.salt is None else rollout.salt
    missing = Resolution(
        key,
        reason=Reason.ERROR,
        error_code=ErrorCode.TARGETING_KEY_MISSING,
        error_message=f"bucketing attribute {rollout.by!r} is missing or not a string or integer",
        has_value=False,
    ).outcome
    base = _cumulative(rollout.weights, resolution, rule)
    steps = [
        (step.at.timestamp(), _cumulative(step.weights, resolution, rule))
        for step in rollout.schedule
    ]
    step_times = [at for at, _ in steps]
    tables = [base] + [table for _, table in steps]

    def bucket_of(ctx: Context) -> int | None:
        value = get(ctx)
        if type(value) is not str:
            if type(value) is not int:
                return None
            value = str(value)
        return (murmur3(salt + value, 0, False) * PERCENT_TOTAL) >> 32

    if not steps:
        if len(base) == 2:
            (limit, first), (_, second) = base

            def two_way(ctx: Context) -> Outcome:
                bucket = bucket_of(ctx)
                if bucket is None:
                    return missing
                return (first if bucket < limit else second, bucket)

            return two_way

        def weighted(ctx: Context) -> Outcome:
            bucket = bucket_of(ctx)
            if bucket is None:
                return missing
            for limit, chosen in base:
                if bucket < limit:
                    return (chosen, bucket)
            return (base[-1][1], bucket)  # unreachable: the bounds end at 10000

        return weighted

    def scheduled(ctx: Context) -> Outcome:
        bucket = bucket_of(ctx)
        if bucket is None:
            return missing
        table = tables[bisect.bisect_right(step_times, clock())]
        for limit, chosen in table:
            if bucket < limit:
                return (chosen, bucket)
        return (table[-1][1], bucket)

    return scheduled
