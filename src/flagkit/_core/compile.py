"""Compile a validated native document into a Snapshot of planned, generated flags.

Everything that can be decided once is decided here: operand sets are built,
patterns compiled, weights turned into integer shares, and every way a flag
can resolve is allocated up front as a ``Resolution``. Each flag becomes a
``Plan`` (``plan``), which ``codegen`` renders into one function, so
evaluation only reads attributes, hashes and compares.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flagkit._core import rollouts
from flagkit._core.bucketing import bucketing_key
from flagkit._core.codegen import compiled_flag
from flagkit._core.conditions import (
    Predicate,
    all_of,
    attribute_getter,
    compile_condition,
    match_in,
)
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.plan import (
    Check,
    CheckKind,
    Gate,
    Guard,
    Metric,
    Plan,
    Ramp,
    Rule,
    Serve,
    Split,
)
from flagkit._core.snapshot import CompiledFlag, FlagMeta, Resolution, Snapshot, ValueType
from flagkit._core.values import plain
from flagkit._definitions.model import (
    Condition,
    Document,
    Flag,
    GuardMetric,
    Rollout,
    Segment,
    ServeRollout,
    ServeVariant,
)
from flagkit._definitions.model import Serve as ServeModel
from flagkit._definitions.validate import value_type_of
from flagkit._types import Clock, ContextLike

__all__ = ["compile_document", "compile_flags", "compile_segments"]

MakeResolution = Callable[[str | None, Reason, str | None], Resolution]


def compile_document(
    document: Document,
    *,
    origin: str = "<memory>",
    revision: str = "",
    clock: Clock = time.time,
    keep_definitions: bool = True,
) -> Snapshot:
    """Compile a validated document into an immutable snapshot.

    With ``keep_definitions=False`` the snapshot drops the pydantic document
    (``Snapshot.document`` and ``CompiledFlag.definition`` are None): a
    client needs only the compiled form, and half the objects of a large
    flag set are the definitions.
    """
    flags = compile_flags(
        document.flags, document.segments, clock=clock, keep_definitions=keep_definitions
    )
    return Snapshot(
        flags=flags,
        origin=origin,
        loaded_at=time.time(),
        revision=revision,
        document=document if keep_definitions else None,
    )


def compile_flags(
    flags: Mapping[str, Flag],
    segments: Mapping[str, Segment],
    *,
    clock: Clock = time.time,
    keep_definitions: bool = True,
) -> dict[str, CompiledFlag]:
    """Compile flags (in prerequisite order) against their segments."""
    return _Compiler(segments, clock, keep_definitions).compile_all(flags)


def compile_segments(segments: Mapping[str, Segment]) -> dict[str, Predicate]:
    """Compile segments alone into membership predicates."""
    return dict(_Compiler(segments, time.time, keep=False).segments)


def _metric(metric: GuardMetric) -> Metric:
    return Metric(
        kind=metric.metric,
        effect=metric.effect,
        worse=metric.worse or "higher",
        quantile=0.95 if metric.quantile is None else metric.quantile,
        event=metric.event,
    )


class _Compiler:
    """One compile pass: shares identical operand sets and predicates across flags."""

    def __init__(self, segments: Mapping[str, Segment], clock: Clock, keep: bool) -> None:
        self.clock = clock
        self.keep_definitions = keep
        self.predicates: dict[tuple[Any, ...], Predicate] = {}
        self.operand_sets: dict[tuple[str, ...], frozenset[str]] = {}
        self.segments: dict[str, Predicate] = {}
        self.segment_json: dict[str, bytes] = {}
        # Segment rules cannot refer to segments (validation), so order is free.
        for name, seg in segments.items():
            self.segments[name] = self.segment(seg)
            self.segment_json[name] = seg.model_dump_json().encode()

    def compile_all(self, flags: Mapping[str, Flag]) -> dict[str, CompiledFlag]:
        """Compile every flag, each after its prerequisites.

        A loop with an explicit stack, not a recursive closure: a closure
        that refers to itself is a reference cycle, which would keep the
        whole pydantic document alive until the next garbage collection.
        """
        compiled: dict[str, CompiledFlag] = {}
        for root in flags:
            stack = [root]
            while stack:
                key = stack[-1]
                if key in compiled:
                    stack.pop()
                    continue
                flag = flags[key]
                pending = [p.flag for p in flag.prerequisites if p.flag not in compiled]
                if pending:
                    stack.extend(pending)  # validation guarantees no cycles
                    continue
                prerequisites = [
                    (compiled[p.flag], frozenset(p.variants)) for p in flag.prerequisites
                ]
                compiled[key] = self.flag(key, flag, prerequisites)
                stack.pop()
        return {key: compiled[key] for key in flags}

    def segment(self, segment: Segment) -> Predicate:
        get = attribute_getter(segment.by)
        included = match_in(segment.include)
        excluded = match_in(segment.exclude)
        rules = tuple(all_of([self.predicate(c) for c in rule.when]) for rule in segment.rules)

        def in_segment(ctx: ContextLike) -> bool:
            key = plain(get(ctx))  # tested by what it is made of, as conditions are
            if excluded(key):
                return False
            if included(key):
                return True
            return any(rule(ctx) for rule in rules)

        return in_segment

    def predicate(self, cond: Condition) -> Predicate:
        operands = cond.operands()
        cache_key = (cond.attribute, cond.op, cond.negate, *operands)
        found = self.predicates.get(cache_key)
        if found is None:
            found = compile_condition(cond.attribute, cond.op, operands, cond.negate, self.segments)
            self.predicates[cache_key] = found
        return found

    def check(self, cond: Condition) -> Check:
        """Return the cheapest check that tests a condition."""
        operands = tuple(cond.operands())
        attribute = "" if cond.op == "in_segment" else cond.attribute or "targetingKey"
        getter = None if "." not in attribute else attribute_getter(attribute)
        fast = (
            cond.op in ("equals", "in")
            and not cond.negate
            and operands
            and all(type(o) is str for o in operands)
        )
        kind: CheckKind
        operand: Any
        if not fast:
            kind, operand = "call", self.predicate(cond)
        elif len(operands) == 1:
            kind, operand = "eq", operands[0]
        else:
            kind, operand = "in", self.operand_sets.get(operands)
            if operand is None:
                operand = self.operand_sets[operands] = frozenset(operands)
        segments = (
            tuple((str(name), self.segments[str(name)]) for name in operands)
            if cond.op == "in_segment"
            else ()
        )
        return Check(kind, operand, attribute, getter, cond.op, operands, cond.negate, segments)

    def flag(
        self, key: str, flag: Flag, prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]]
    ) -> CompiledFlag:
        variants: dict[str, Any] = dict(flag.variants)
        types = {value_type_of(v) for v in variants.values()}
        value_type: ValueType = "float" if types == {"int", "float"} else types.pop()  # type: ignore[assignment]
        if value_type == "float":
            variants = {k: float(v) for k, v in variants.items()}

        def resolution(variant: str | None, reason: Reason, rule: str | None) -> Resolution:
            if variant is None:
                return Resolution(key, reason=reason, rule=rule, has_value=False)
            return Resolution(
                key, value=variants[variant], variant=variant, reason=reason, rule=rule
            )

        return compiled_flag(
            self.plan(key, flag, prerequisites, resolution),
            value_type=value_type,
            variants=variants,
            meta=FlagMeta(flag.description, flag.kind, flag.owner, flag.expires, tuple(flag.tags)),
            track_exposure=(
                flag.track_exposure
                if flag.track_exposure is not None
                else flag.kind == "experiment"
            ),
            definition=flag if self.keep_definitions else None,
            fingerprint=self.fingerprint(flag, prerequisites),
        )

    def fingerprint(
        self, flag: Flag, prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]]
    ) -> str:
        """Digest everything the flag's behaviour depends on.

        Its own definition, the segments it uses, and its prerequisites'
        digests: a change to any of them is a change to this flag, so
        change listeners hear about it.
        """
        digest = hashlib.blake2b(flag.model_dump_json().encode(), digest_size=12)
        for rule in flag.rules:
            for cond in rule.when:
                if cond.op == "in_segment":
                    for name in cond.operands():
                        digest.update(self.segment_json.get(str(name), b""))
        for prerequisite, _ in prerequisites:
            digest.update(prerequisite.fingerprint.encode())
        return digest.hexdigest()

    def plan(
        self,
        key: str,
        flag: Flag,
        prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]],
        resolution: MakeResolution,
    ) -> Plan:
        """Return the flag's plan: kill switch, prerequisites, rules, default."""
        if not flag.enabled:
            off = resolution(flag.off_variant, Reason.DISABLED, None).outcome
            return Plan(key, default=off, disabled=off)
        static = not flag.rules and not prerequisites
        default = self.serve(
            key, flag.default, resolution, Reason.STATIC if static else Reason.DEFAULT, None
        )
        rules = tuple(
            Rule(
                name,
                tuple(self.check(c) for c in rule.when),
                self.serve(key, rule.serve, resolution, Reason.TARGETING_MATCH, name),
            )
            for name, rule in (
                (rule.name or f"rules[{i}]", rule) for i, rule in enumerate(flag.rules)
            )
        )
        gates: tuple[Gate, ...] = ()
        if prerequisites:
            failed = resolution(flag.off_variant, Reason.PREREQUISITE_FAILED, None).outcome
            gates = tuple(Gate(pre, allowed, failed) for pre, allowed in prerequisites)
        return Plan(key, default=default, rules=rules, gates=gates, guard=self.guard(flag))

    def guard(self, flag: Flag) -> Guard | None:
        """Return the guard of the flag's guarded rollout (validation allows one), or None."""
        serves = [*(rule.serve for rule in flag.rules), flag.default]
        for index, serve in enumerate(serves):
            if not isinstance(serve, ServeRollout) or serve.rollout.guard is None:
                continue
            rollout, guard = serve.rollout, serve.rollout.guard
            served = dict.fromkeys(rollout.weights)
            for step in rollout.schedule:
                served.update(dict.fromkeys(step.weights))
            return Guard(
                control=guard.control,
                treatments=tuple(name for name in served if name != guard.control),
                metrics=tuple(_metric(m) for m in guard.metrics),
                alpha=guard.alpha,
                min_sample=guard.min_sample,
                action=guard.action,
                rule=None if index == len(flag.rules) else index,
            )
        return None

    def serve(
        self,
        key: str,
        serve: ServeModel,
        resolution: MakeResolution,
        reason: Reason,
        rule: str | None,
    ) -> Serve:
        if isinstance(serve, str | ServeVariant):
            name = serve if isinstance(serve, str) else serve.variant
            return resolution(name, reason, rule).outcome
        assert isinstance(serve, ServeRollout)
        return self.rollout(key, serve.rollout, resolution, rule)

    def rollout(
        self, key: str, rollout: Rollout, resolution: MakeResolution, rule: str | None
    ) -> Split | Ramp:
        missing = Resolution(
            key,
            reason=Reason.ERROR,
            error_code=ErrorCode.TARGETING_KEY_MISSING,
            error_message=f"bucketing attribute {rollout.by!r} is missing "
            "or not a string or integer",
            has_value=False,
        ).outcome
        getter = None if "." not in rollout.by else attribute_getter(rollout.by)

        def split(weights: Mapping[str, float]) -> Split:
            scaled = rollouts.hundredths(weights) or {}
            return Split(
                salt=key if rollout.salt is None else rollout.salt,
                attribute=rollout.by,
                getter=getter,
                key_of=bucketing_key,
                weights=tuple(
                    (resolution(variant, Reason.SPLIT, rule), weight)
                    for variant, weight in scaled.items()
                ),
                total=rollouts.PERCENT_TOTAL,
                missing=missing,
            )

        if not rollout.schedule:
            return split(rollout.weights)
        return Ramp(
            times=tuple(step.at.timestamp() for step in rollout.schedule),
            steps=(split(rollout.weights), *(split(step.weights) for step in rollout.schedule)),
            clock=self.clock,
        )
