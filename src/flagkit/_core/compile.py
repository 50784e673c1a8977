"""Compile a validated native document into a Snapshot of planned, generated flags.

Everything that can be decided once is decided here: operand sets are built,
patterns compiled, weights turned into integer shares, and every way a flag
can resolve is allocated up front as a ``Resolution``. Each flag becomes a
``Plan`` (``plan``), which ``codegen`` renders into one function, so
evaluation only reads attributes, hashes and compares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

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
from flagkit._definitions.validate import variants_type
from flagkit._types import Clock, ContextLike

if TYPE_CHECKING:  # the models need pydantic, which the fast load path never loads
    from flagkit._definitions.model import Document

__all__ = [
    "FlagCompiler",
    "compile_document",
    "compile_flags",
    "compile_segments",
    "definition_text",
    "fingerprint_of",
]

#: A flag definition: the pydantic model (``_definitions.model.Flag``) or the
#: C-decoded shape (``_definitions.shapes.Flag``); both have the same fields.
FlagDefinition = Any

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
    flags: Mapping[str, FlagDefinition],
    segments: Mapping[str, Any],
    *,
    clock: Clock = time.time,
    keep_definitions: bool = True,
) -> dict[str, CompiledFlag]:
    """Compile flags (in prerequisite order) against their segments."""
    return FlagCompiler(segments, clock, keep_definitions).compile_all(flags)


def compile_segments(segments: Mapping[str, Any]) -> dict[str, Predicate]:
    """Compile segments alone into membership predicates."""
    return dict(FlagCompiler(segments, time.time, keep=False).segments)


def _metric(metric: Any) -> Metric:
    """Return a guard metric (model or shape) as the plan's ``Metric``."""
    return Metric(
        kind=metric.metric,
        effect=metric.effect,
        worse=metric.worse or "higher",
        quantile=0.95 if metric.quantile is None else metric.quantile,
        event=metric.event,
    )


def definition_text(definition: Any) -> bytes:
    """Return a definition (model or shape) as canonical JSON, for change digests."""
    dump = getattr(definition, "model_dump_json", None)
    if dump is not None:
        return dump().encode()  # type: ignore[no-any-return]
    return msgspec.json.encode(definition)


def fingerprint_of(text: bytes, segments: Iterable[bytes], prerequisites: Iterable[str]) -> str:
    """Digest everything a flag's behaviour depends on.

    Its own definition's text, the segments it uses, and its prerequisites'
    digests: a change to any of them is a change to this flag, so change
    listeners hear about it.
    """
    digest = hashlib.blake2b(text, digest_size=12)
    for segment in segments:
        digest.update(segment)
    for prerequisite in prerequisites:
        digest.update(prerequisite.encode())
    return digest.hexdigest()


def segments_used(flag: FlagDefinition) -> list[str]:
    """Return the segment names a flag's rules refer to, in order."""
    return [
        str(name)
        for rule in flag.rules
        for cond in rule.when
        if cond.op == "in_segment"
        for name in cond.operands()
    ]


class FlagCompiler:
    """One compile pass: shares identical operand sets and predicates across flags.

    ``segment_texts`` are the segments' texts for change digests (by
    default their canonical JSON).
    """

    def __init__(
        self,
        segments: Mapping[str, Any],
        clock: Clock,
        keep: bool,
        segment_texts: Mapping[str, bytes] | None = None,
    ) -> None:
        self.clock = clock
        self.keep_definitions = keep
        self.predicates: dict[tuple[Any, ...], Predicate] = {}
        self.operand_sets: dict[tuple[str, ...], frozenset[str]] = {}
        self.segments: dict[str, Predicate] = {}
        self.segment_texts: dict[str, bytes] = {}
        # Segment rules cannot refer to segments (validation), so order is free.
        for name, seg in segments.items():
            self.segments[name] = self.segment(seg)
            self.segment_texts[name] = (
                segment_texts[name] if segment_texts is not None else definition_text(seg)
            )

    def compile_all(self, flags: Mapping[str, FlagDefinition]) -> dict[str, CompiledFlag]:
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

    def segment(self, segment: Any) -> Predicate:
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

    def predicate(self, cond: Any) -> Predicate:
        operands = cond.operands()
        cache_key = (cond.attribute, cond.op, cond.negate, *operands)
        found = self.predicates.get(cache_key)
        if found is None:
            found = compile_condition(cond.attribute, cond.op, operands, cond.negate, self.segments)
            self.predicates[cache_key] = found
        return found

    def check(self, cond: Any) -> Check:
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
        self,
        key: str,
        flag: FlagDefinition,
        prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]],
        *,
        text: bytes | None = None,
    ) -> CompiledFlag:
        """Compile one flag whose prerequisites are compiled; ``text`` is its digest's source."""
        variants: dict[str, Any] = dict(flag.variants)
        value_type: ValueType = variants_type(variants)  # type: ignore[assignment]
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
            meta=FlagMeta(
                flag.description,
                flag.kind,
                flag.owner,
                None if flag.expires is None else dt.date(*flag.expires.timetuple()[:3]),
                tuple(flag.tags),
            ),
            track_exposure=(
                flag.track_exposure
                if flag.track_exposure is not None
                else flag.kind == "experiment"
            ),
            definition=flag if self.keep_definitions else None,
            fingerprint=self.fingerprint(flag, prerequisites, text),
        )

    def fingerprint(
        self,
        flag: FlagDefinition,
        prerequisites: Sequence[tuple[CompiledFlag, frozenset[str]]],
        text: bytes | None = None,
    ) -> str:
        """Digest the flag's text, the segments it uses and its prerequisites' digests."""
        return fingerprint_of(
            definition_text(flag) if text is None else text,
            (self.segment_texts.get(name, b"") for name in segments_used(flag)),
            (prerequisite.fingerprint for prerequisite, _ in prerequisites),
        )

    def plan(
        self,
        key: str,
        flag: FlagDefinition,
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

    def guard(self, flag: FlagDefinition) -> Guard | None:
        """Return the guard of the flag's guarded rollout (validation allows one), or None."""
        serves = [*(rule.serve for rule in flag.rules), flag.default]
        for index, serve in enumerate(serves):
            rollout = None if type(serve) is str else getattr(serve, "rollout", None)
            if rollout is None or rollout.guard is None:
                continue
            guard = rollout.guard
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
        serve: Any,
        resolution: MakeResolution,
        reason: Reason,
        rule: str | None,
    ) -> Serve:
        if type(serve) is str:
            return resolution(serve, reason, rule).outcome
        # A model is ServeVariant or ServeRollout; a shape has both fields, one set.
        rollout = getattr(serve, "rollout", None)
        if rollout is None:
            return resolution(serve.variant, reason, rule).outcome
        return self.rollout(key, rollout, resolution, rule)

    def rollout(
        self, key: str, rollout: Any, resolution: MakeResolution, rule: str | None
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
