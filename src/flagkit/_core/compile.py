"""Compile a validated document into a Snapshot of generated evaluators.

Everything that can be decided once is decided here: operand sets are built,
patterns compiled, weights turned into cumulative integer bounds, and every
way a flag can resolve is allocated up front as a ``Resolution``. Each flag
then becomes one generated function (see ``_codegen``), so evaluation only
reads attributes, hashes and compares.
"""

from __future__ import annotations

import bisect
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flagkit._core.codegen import Check, Serve, Split, generate_evaluator
from flagkit._core.conditions import (
    Predicate,
    all_of,
    attribute_getter,
    compile_condition,
    match_in,
)
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.snapshot import (
    CompiledFlag,
    Evaluator,
    FlagMeta,
    Outcome,
    Resolution,
    Snapshot,
    ValueType,
)
from flagkit._definitions.model import (
    Condition,
    Document,
    Flag,
    Rollout,
    Segment,
    ServeRollout,
    ServeVariant,
)
from flagkit._definitions.model import Serve as ServeModel
from flagkit._definitions.validate import value_type_of, weights_in_hundredths
from flagkit._sources.gc import gc_paused
from flagkit._types import Clock, ContextLike

__all__ = ["Clock", "compile_document", "compile_flags", "compile_segments"]

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
    with gc_paused():
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
    """Compile segments alone into membership predicates (for tools such as explain)."""
    return dict(_Compiler(segments, time.time, keep=False).segments)


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
            key = get(ctx)
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
        """Return the cheapest generated form of a condition."""
        operands = cond.operands()
        fast = (
            cond.op in ("equals", "in")
            and not cond.negate
            and operands
            and all(type(o) is str for o in operands)
        )
        if not fast:
            return Check("call", self.predicate(cond))
        attribute = cond.attribute or "targetingKey"
        flat = "." not in attribute
        getter = None if flat else attribute_getter(attribute)
        if len(operands) == 1:
            return Check("eq", operands[0], attribute if flat else None, getter)
        key = tuple(operands)
        members = self.operand_sets.get(key)
        if members is None:
            members = self.operand_sets[key] = frozenset(operands)
        return Check("in", members, attribute if flat else None, getter)

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

        evaluate, constant = self.evaluator(key, flag, prerequisites, resolution)
        return CompiledFlag(
            key,
            evaluate=evaluate,
            constant=constant,
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

    def evaluator(
        self,
        key: str,
        flag: Flag,
        prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]],
        resolution: MakeResolution,
    ) -> tuple[Evaluator, Resolution | None]:
        """Return the flag's evaluator, and its one resolution when it is constant."""
        if not flag.enabled:
            off = resolution(flag.off_variant, Reason.DISABLED, None).outcome
            return (lambda ctx: off), off[0]
        static = not flag.rules and not prerequisites
        default = self.serve(
            key, flag.default, resolution, Reason.STATIC if static else Reason.DEFAULT, None
        )
        if static and isinstance(default, tuple):
            fixed = default
            return (lambda ctx: fixed), fixed[0]
        rules = [
            (
                [self.check(c) for c in rule.when],
                self.serve(
                    key, rule.serve, resolution, Reason.TARGETING_MATCH, rule.name or f"rules[{i}]"
                ),
            )
            for i, rule in enumerate(flag.rules)
        ]
        failed = (
            resolution(flag.off_variant, Reason.PREREQUISITE_FAILED, None).outcome
            if prerequisites
            else None
        )
        gates = [(pre.evaluate, allowed) for pre, allowed in prerequisites]
        return generate_evaluator(gates, failed, rules, default), None

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
    ) -> Serve:
        salt = key if rollout.salt is None else rollout.salt
        missing = Resolution(
            key,
            reason=Reason.ERROR,
            error_code=ErrorCode.TARGETING_KEY_MISSING,
            error_message=f"bucketing attribute {rollout.by!r} is missing "
            "or not a string or integer",
            has_value=False,
        ).outcome
        flat = "." not in rollout.by
        getter = None if flat else attribute_getter(rollout.by)
        base = _cumulative(rollout.weights, resolution, rule)
        if not rollout.schedule:
            return Split(salt, base, missing, rollout.by if flat else None, getter)
        tables = [base] + [_cumulative(s.weights, resolution, rule) for s in rollout.schedule]
        step_times = [step.at.timestamp() for step in rollout.schedule]
        read = getter or attribute_getter(rollout.by)
        clock = self.clock
        # The schedule picks a bound table by time; the split itself is the
        # same generated code, reached through one extra call.
        splits = [
            generate_evaluator((), None, (), Split(salt, table, missing, None, read))
            for table in tables
        ]

        def scheduled(ctx: ContextLike) -> Outcome:
            return splits[bisect.bisect_right(step_times, clock())](ctx)

        return scheduled


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
