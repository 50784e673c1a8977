"""Compile Unleash features into flagkit plans, evaluated as the client specification says.

A feature is a boolean flag. Its plan (``flagkit._core.plan``):

* ``enabled: false`` is the kill switch (DISABLED);
* each dependency is a prerequisite gate on its parent (a missing parent,
  or one with dependencies of its own, fails: Unleash allows one level);
* each strategy is a rule: the strategy's own test, then its constraints and
  its segments' constraints, all of which must hold; the first strategy
  that holds serves (strategies are OR'ed);
* the default serves "not enabled", or "enabled" for a feature without
  strategies.

What a matching strategy serves: its own variants when it has any, else
the feature's variants, else plain "enabled". Variants are a ``Split``
over the variants' weights with Unleash's normalisation
(``murmur3("groupId:stickiness", 86028157) % total``); a last strategy that
is a percentage rollout (the common case) is a ``Split`` too
(``murmur3("groupId:stickiness") % 100 < rollout``), so a rollout costs what
a native one does. Variant overrides are checked before the split.

flagkit names the variant of every outcome, so the plan works with the
rest of flagkit (explain, simulate, cohorts, ``dispatch``, counters):
the Unleash variant's name when one is served, ``"enabled"`` when the
feature is on without a variant, and ``"disabled"`` when it is off (the
name Unleash itself reports then). Each outcome carries its Unleash answer
(``Resolution.view``), which ``Client.get_variant`` returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import mmh3

from flagkit._core.codegen import compiled_flag, serve_function
from flagkit._core.details import DISABLED_VARIANT, ErrorCode, Reason, Variant
from flagkit._core.plan import Call, Check, Gate, Plan, Rule, Serve, Split
from flagkit._core.snapshot import CompiledFlag, Outcome, Resolution
from flagkit._errors import Problem, dotted
from flagkit._types import Clock, ContextLike
from flagkit.formats.unleash._constraints import (
    ConstraintError,
    Predicate,
    always,
    compile_constraint,
    in_random_percent,
)
from flagkit.formats.unleash._context import (
    Reader,
    StaticContext,
    default_stickiness,
    reader_of,
    text_of,
    user_id_fallback,
)
from flagkit.formats.unleash._model import (
    Constraint,
    Feature,
    Strategy,
    UnleashDocument,
)
from flagkit.formats.unleash._model import Segment as SegmentModel
from flagkit.formats.unleash._model import Variant as VariantModel
from flagkit.formats.unleash._values import in_ranges, ip_of, ip_ranges

__all__ = [
    "DISABLED",
    "ENABLED",
    "ROLLOUT_TOTAL",
    "VARIANT_SEED",
    "CompiledFeatures",
    "compile_features",
]

#: The seed of variant hashing (Unleash's VARIANT_NORMALIZATION_SEED).
VARIANT_SEED = 86028157
#: Percentage rollouts hash into 100 buckets.
ROLLOUT_TOTAL = 100
#: flagkit's variant names of the outcomes that serve no Unleash variant.
ENABLED = "enabled"
DISABLED = "disabled"

_ENABLED_VIEW = Variant(DISABLED, enabled=False, feature_enabled=True)
_PERCENT = re.compile(r"\+?\d+", re.ASCII)


class CompiledFeatures(NamedTuple):
    """Every feature compiled, and those refused (each resolves to ERROR/PARSE_ERROR)."""

    flags: dict[str, CompiledFlag]
    refused: frozenset[str]
    problems: tuple[Problem, ...]


def compile_features(
    document: UnleashDocument, *, static: StaticContext, clock: Clock
) -> CompiledFeatures:
    """Compile every feature of a validated document (parents before their children).

    A feature with a problem of its own (its shape, or a constraint Unleash
    cannot compile) is refused: it resolves to ERROR/PARSE_ERROR, is listed
    with its problems, and a client keeps its last good definition.
    """
    compiler = _Compiler(document, static, clock)
    compiled: dict[str, CompiledFlag] = {}
    # Parents may have no dependencies (Unleash allows one level), so two
    # passes compile every parent before any child.
    for with_dependencies in (False, True):
        for name, feature in document.features.items():
            if bool(feature is not None and feature.dependencies) is with_dependencies:
                compiled[name] = compiler.feature(name, feature, compiled)
    refused = frozenset(compiler.refused)
    problems = tuple(p for p in document.problems if p.flag in refused) + tuple(compiler.problems)
    return CompiledFeatures({name: compiled[name] for name in document.features}, refused, problems)


@dataclass(frozen=True, slots=True)
class _Rollout:
    """A percentage rollout: ``murmur3(salt + key) % 100 < percent``."""

    percent: int
    salt: str
    attribute: str
    read: Reader


class _Outcomes:
    """Every way one feature resolves, allocated once."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.disabled = self.off(Reason.DISABLED)
        self.unmatched = self.off(Reason.DEFAULT)
        self.prerequisite_failed = self.off(Reason.PREREQUISITE_FAILED)

    def off(self, reason: Reason, rule: str | None = None) -> Outcome:
        return Resolution(
            self.key,
            value=False,
            variant=DISABLED,
            reason=reason,
            rule=rule,
            view=DISABLED_VARIANT,
        ).outcome

    def enabled(self, reason: Reason, rule: str | None) -> Outcome:
        return Resolution(
            self.key, value=True, variant=ENABLED, reason=reason, rule=rule, view=_ENABLED_VIEW
        ).outcome

    def variant(self, variant: VariantModel, reason: Reason, rule: str | None) -> Resolution:
        payload = (
            None
            if variant.payload is None
            else MappingProxyType({"type": variant.payload.type, "value": variant.payload.value})
        )
        return Resolution(
            self.key,
            value=True,
            variant=variant.name,
            reason=reason,
            rule=rule,
            payload=payload,
            view=Variant(variant.name, enabled=True, feature_enabled=True, payload=payload),
        )

    def broken(self, message: str) -> Outcome:
        return Resolution(
            self.key,
            reason=Reason.ERROR,
            error_code=ErrorCode.PARSE_ERROR,
            error_message=message,
            has_value=False,
            view=DISABLED_VARIANT,
        ).outcome


class _Compiler:
    """One document's compile pass: its segments, static context and clock."""

    def __init__(self, document: UnleashDocument, static: StaticContext, clock: Clock) -> None:
        self.document = document
        self.refused: list[str] = []
        self.problems: list[Problem] = []
        self.static = static
        self.clock = clock
        self.readers: dict[str, Reader] = {}
        # The reference engine reads a lower-case ``hostname`` variable first
        # (its tests set it), then asks the system.
        self.hostname = (os.environ.get("hostname") or socket.gethostname()).lower()  # noqa: SIM112

    def reader(self, name: str) -> Reader:
        found = self.readers.get(name)
        if found is None:
            found = self.readers[name] = reader_of(name, self.static, self.clock)
        return found

    # -- features ------------------------------------------------------------

    def feature(
        self, key: str, feature: Feature | None, compiled: Mapping[str, CompiledFlag]
    ) -> CompiledFlag:
        outcomes = _Outcomes(key)
        variants: dict[str, Any] = {DISABLED: False, ENABLED: True}
        if feature is None:
            self.refused.append(key)
            problems = [p for p in self.document.problems if p.flag == key]
            message = f"feature {key!r} is invalid: " + "; ".join(
                f"{p.field}: {p.message}" for p in problems
            )
            plan = Plan(key, default=outcomes.broken(message))
            return compiled_flag(plan, value_type="bool", variants=variants, fingerprint="")
        for variant in self._all_variants(feature):
            variants.setdefault(variant.name, True)
        try:
            plan = self.plan(key, feature, outcomes, compiled)
        except ConstraintError as exc:
            self.refused.append(key)
            self.problems.append(Problem(("flags", key, "strategies"), str(exc)))
            plan = Plan(key, default=outcomes.broken(f"feature {key!r}: {exc}"))
        views: dict[str, Variant] = {DISABLED: DISABLED_VARIANT, ENABLED: _ENABLED_VIEW}
        for variant in self._all_variants(feature):
            view = outcomes.variant(variant, Reason.OVERRIDE, None).view
            if view is not None:
                views.setdefault(variant.name, view)
        metadata = {
            name: value
            for name, value in (("project", feature.project), ("type", feature.type))
            if value is not None
        }
        return compiled_flag(
            plan,
            value_type="bool",
            variants=variants,
            track_exposure=bool(feature.impression_data),
            fingerprint=self.fingerprint(feature, compiled),
            metadata=metadata,
            views=views,
        )

    @staticmethod
    def _all_variants(feature: Feature) -> list[VariantModel]:
        found = list(feature.variants or ())
        for strategy in feature.strategies or ():
            found.extend(strategy.variants or ())
        return found

    def fingerprint(self, feature: Feature, compiled: Mapping[str, CompiledFlag]) -> str:
        """Digest the feature, the segments it uses, its parents and the static context."""
        digest = hashlib.blake2b(_json_of(feature), digest_size=12)
        for strategy in feature.strategies or ():
            for segment_id in strategy.segments or ():
                segment = self.document.segments.get(segment_id)
                digest.update(b"" if segment is None else _json_of(segment))
        for dependency in feature.dependencies or ():
            parent = compiled.get(dependency.feature)
            digest.update(b"-" if parent is None else parent.fingerprint.encode())
        digest.update(json.dumps(dict(self.static), sort_keys=True).encode())
        return digest.hexdigest()

    def plan(
        self,
        key: str,
        feature: Feature,
        outcomes: _Outcomes,
        compiled: Mapping[str, CompiledFlag],
    ) -> Plan:
        if not feature.enabled:
            return Plan(key, default=outcomes.disabled, disabled=outcomes.disabled)
        gates: list[Gate] = []
        for dependency in feature.dependencies or ():
            parent = compiled.get(dependency.feature)
            parent_feature = self.document.features.get(dependency.feature)
            if parent is None or parent_feature is None or parent_feature.dependencies:
                # A missing parent, or a parent with parents of its own, never passes.
                return Plan(key, default=outcomes.prerequisite_failed)
            gates.append(
                Gate(
                    parent,
                    self.allowed(dependency.enabled, dependency.variants, parent),
                    outcomes.prerequisite_failed,
                )
            )
        strategies = feature.strategies or []
        rules = [
            self.rule(key, feature, strategy, index, outcomes, last=index == len(strategies) - 1)
            for index, strategy in enumerate(strategies)
        ]
        if not strategies:
            reason = Reason.DEFAULT if gates else Reason.STATIC
            default: Serve = self.feature_variants(
                key, feature, outcomes, rule=None, reason=reason
            ) or outcomes.enabled(reason, None)
            return Plan(key, default=default, gates=tuple(gates))
        if len(rules) == 1 and not rules[0].checks and not gates:
            return Plan(key, default=rules[0].serve)  # one unconditional strategy
        return Plan(key, default=outcomes.unmatched, rules=tuple(rules), gates=tuple(gates))

    @staticmethod
    def allowed(
        enabled: bool | None, names: list[str] | None, parent: CompiledFlag
    ) -> frozenset[str]:
        """Return the parent's variants that satisfy a dependency.

        Expecting the parent enabled (the default): any of its enabled
        outcomes, or with ``variants`` listed, those of them it has (and
        "enabled": a parent serving no variant satisfies any list, as in
        the reference engine). Expecting it disabled: its "disabled" outcomes.
        """
        if enabled is False:
            return frozenset({DISABLED})
        on = frozenset(name for name in parent.variants if name != DISABLED)
        if names:
            return frozenset(name for name in names if name in on) | {ENABLED}
        return on

    # -- strategies ------------------------------------------------------------

    def rule(
        self,
        key: str,
        feature: Feature,
        strategy: Strategy,
        index: int,
        outcomes: _Outcomes,
        *,
        last: bool,
    ) -> Rule:
        name = f"strategies[{index}]"
        parameters = strategy.parameters or {}
        checks = [self.constraint_check(c) for c in self.constraints_of(strategy, index)]
        serve: Serve | None = None
        if strategy.variants:
            group_id = parameters.get("groupId") or key
            serve = self.variants_serve(
                strategy.variants,
                outcomes,
                group_id=group_id,
                stickiness=parameters.get("stickiness"),
                rule=name,
                overrides=False,
            )
        if serve is None:
            serve = self.feature_variants(key, feature, outcomes, rule=name)
        rollout = self.rollout_of(key, strategy)
        if serve is None and last and isinstance(rollout, _Rollout):
            # The last strategy, a plain rollout: one split decides on or off.
            attribute, getter, fallback = self.split_read(rollout.attribute, random_last=False)
            serve = Split(
                salt=rollout.salt,
                attribute=attribute,
                getter=getter,
                fallback=fallback,
                key_of=text_of,
                weights=(
                    (outcomes.enabled(Reason.SPLIT, name)[0], rollout.percent),
                    (outcomes.unmatched[0], ROLLOUT_TOTAL - rollout.percent),
                ),
                total=ROLLOUT_TOTAL,
                missing=outcomes.unmatched,
                modulo=True,
                report_bucket=False,
            )
            return Rule(name, tuple(checks), serve)
        check = self.strategy_check(strategy, rollout)
        if check is not None:
            checks.insert(0, check)
        return Rule(name, tuple(checks), serve or outcomes.enabled(Reason.TARGETING_MATCH, name))

    def constraints_of(self, strategy: Strategy, index: int) -> list[Constraint]:
        """Return the strategy's constraints, then those of its segments."""
        found = list(strategy.constraints or ())
        for segment_id in strategy.segments or ():
            segment = self.document.segments.get(segment_id)
            if segment is None:
                where = dotted(("strategies", index, "segments"))
                raise ConstraintError(f"{where}: segment {segment_id} does not exist")
            found.extend(segment.constraints)
        return found

    def constraint_check(self, constraint: Constraint) -> Check:
        read = self.reader(constraint.context_name)
        operands = (
            tuple(constraint.values or ()) if constraint.value is None else (constraint.value,)
        )
        shown = constraint.operator + (" (case-insensitive)" if constraint.case_insensitive else "")
        if constraint.operator == "IN" and not constraint.inverted:
            # The common constraint, tested inline by the generated evaluator
            # (one call fewer), as ``compile_constraint`` tests it: ``read``
            # gives an exact str or None, which is in no set; IN reads
            # ``values`` only, and ignores ``caseInsensitive``.
            members = frozenset(constraint.values or ())
            return Check("in", members, constraint.context_name, read, shown, operands)
        predicate = compile_constraint(
            read,
            constraint.operator,
            constraint.values,
            constraint.value,
            inverted=constraint.inverted,
            case_insensitive=constraint.case_insensitive,
        )
        return Check(
            "call",
            predicate,
            constraint.context_name,
            read,
            shown,
            operands,
            constraint.inverted,
        )

    def rollout_of(self, key: str, strategy: Strategy) -> _Rollout | None:
        """Return a percentage strategy's rollout; None when it is not one or never holds."""
        parameters = strategy.parameters or {}
        if strategy.name == "flexibleRollout":
            percent = _percent(parameters.get("rollout"))
            stickiness = parameters.get("stickiness") or "default"
            group_id = parameters.get("groupId") or key
        elif strategy.name in ("gradualRolloutUserId", "gradualRolloutSessionId"):
            percent = _percent(parameters.get("percentage"))
            stickiness = "userId" if strategy.name == "gradualRolloutUserId" else "sessionId"
            group_id = parameters.get("groupId") or ""
            if not group_id:
                return None
        else:
            return None
        if percent is None:
            return None
        return _Rollout(percent, group_id + ":", stickiness, self.rollout_reader(stickiness))

    def rollout_reader(self, stickiness: str) -> Reader:
        """Return what a rollout hashes: its stickiness field.

        ``default`` is userId, then sessionId, then a random draw.
        """
        if stickiness == "random":
            return _random_key
        if stickiness == "default":
            return _DEFAULT_KEY
        return self.reader(stickiness)

    def strategy_check(self, strategy: Strategy, rollout: _Rollout | None) -> Check | None:
        """Return the test a strategy itself makes (before its constraints); None for default."""
        name = strategy.name
        parameters = strategy.parameters or {}
        if rollout is not None:
            salt, percent, read = rollout.salt, rollout.percent, rollout.read
            if percent == ROLLOUT_TOTAL and rollout.attribute in ("default", "random"):
                return None  # every context has a key, and every key is in 100%
            predicate = _rollout_predicate(salt, percent, read)
            return Check(
                "call",
                predicate,
                rollout.attribute,
                read,
                name,
                (f"{percent}%", salt[:-1], rollout.attribute),
            )
        if name == "default":
            return None
        if name == "userWithId" and "userIds" in parameters:
            ids = tuple(i.strip() for i in parameters["userIds"].split(","))
            read = self.reader("userId")
            if len(ids) == 1:
                return Check("eq", ids[0], "userId", read, name, ids)
            return Check("in", frozenset(ids), "userId", read, name, ids)
        if name == "remoteAddress" and "IPs" in parameters:
            entries = parameters["IPs"].split(",")
            ranges = ip_ranges(entries)
            read = self.reader("remoteAddress")

            def in_addresses(ctx: ContextLike) -> bool:
                text = read(ctx)
                address = None if text is None else ip_of(text)
                return address is not None and in_ranges(address, ranges)

            return Check(
                "call", in_addresses, "remoteAddress", read, name, tuple(e.strip() for e in entries)
            )
        if name == "applicationHostname":
            hosts = tuple(h.strip().lower() for h in parameters.get("hostNames", "").split(","))
            return Check("call", always(self.hostname in hosts), "hostname", None, name, hosts)
        if name == "gradualRolloutRandom":
            chance = _percent(parameters.get("percentage"))
            if chance is not None:
                return Check("call", in_random_percent(chance), "", None, name, (f"{chance}%",))
        # An unknown (custom) strategy, or one missing what it needs, never holds.
        return Check("call", always(False), "", None, name, tuple(parameters.items()))

    # -- variants ------------------------------------------------------------

    def feature_variants(
        self,
        key: str,
        feature: Feature,
        outcomes: _Outcomes,
        *,
        rule: str | None,
        reason: Reason = Reason.SPLIT,
    ) -> Serve | None:
        """Return the split over the feature's own variants (grouped by its name)."""
        return self.variants_serve(
            feature.variants or [],
            outcomes,
            group_id=key,
            stickiness=_first_stickiness(feature),
            rule=rule,
            reason=reason,
        )

    def variants_serve(
        self,
        variants: Sequence[VariantModel],
        outcomes: _Outcomes,
        *,
        group_id: str,
        stickiness: str | None,
        rule: str | None,
        overrides: bool = True,
        reason: Reason = Reason.SPLIT,
    ) -> Serve | None:
        """Return the split over ``variants``, behind their overrides; None without variants."""
        total = sum(max(v.weight, 0) for v in variants)
        if not variants or total <= 0:
            return None
        attribute, getter, fallback = self.split_read(stickiness or "default", random_last=True)
        split = Split(
            salt=group_id + ":",
            attribute=attribute,
            getter=getter,
            fallback=fallback,
            key_of=text_of,
            weights=tuple((outcomes.variant(v, reason, rule), max(v.weight, 0)) for v in variants),
            total=total,
            missing=outcomes.enabled(reason, rule),
            modulo=True,
            seed=VARIANT_SEED,
            # Prebuilt outcomes, no bucket (explain still shows it): the
            # getter then allocates nothing, as in Unleash's own answers.
            report_bucket=False,
        )
        forced = [
            (self.reader(o.context_name), frozenset(o.values), v)
            for v in variants
            for o in (v.overrides or ())
            if overrides
        ]
        if not forced:
            return split
        matches = tuple(
            (read, values, outcomes.variant(v, Reason.TARGETING_MATCH, rule).outcome)
            for read, values, v in forced
        )
        by_weight = serve_function(split)

        def overridden(ctx: ContextLike) -> Outcome:
            for read, values, outcome in matches:
                if read(ctx) in values:
                    return outcome
            return by_weight(ctx)

        return Call(overridden, "variant overrides, then the variants' weights")

    def split_read(
        self, stickiness: str, *, random_last: bool
    ) -> tuple[str, Reader | None, Reader | None]:
        """Return how a split reads its key: (attribute, getter, fallback).

        ``userId`` (and ``default``, which falls back to sessionId and a
        random draw) is a flat read of ``userId`` with a fallback, so the
        common case costs one dict lookup; other fields use their reader.
        ``random_last``: a missing key is a random draw (variants) rather
        than no key (rollouts, which then do not hold).
        """
        if stickiness == "default":
            return "userId", None, _AFTER_USER_ID
        if stickiness == "userId":
            return "userId", None, _USER_OR_RANDOM if random_last else _TARGETING_KEY
        if stickiness == "random":
            return "random", _random_key, None
        read = self.reader(stickiness)
        return stickiness, (_first_of(read, _random_key) if random_last else read), None


def _json_of(model: Feature | SegmentModel) -> bytes:
    """Return a model as JSON bytes, escaping what UTF-8 cannot encode (a lone surrogate)."""
    try:
        return model.model_dump_json().encode()
    except ValueError:  # pydantic cannot write a lone surrogate as UTF-8 JSON
        return json.dumps(model.model_dump(), ensure_ascii=True, default=str).encode()


def _first_stickiness(feature: Feature) -> str | None:
    return feature.variants[0].stickiness if feature.variants else None


def _percent(text: str | None) -> int | None:
    """Return a rollout percentage as Rust's ``usize`` parse reads it; None if it cannot.

    Over 100 the reference engine cannot compile the feature at all.
    """
    if text is None or _PERCENT.fullmatch(text) is None:
        return None
    percent = int(text)
    if percent > 100:
        raise ConstraintError(f"rollout {text!r} is over 100%")
    return percent


def _random_key(_ctx: ContextLike) -> str:
    """Return a random key (``random`` stickiness: a draw in 1..9999, as the engine draws)."""
    return str(random.randrange(1, 10_000))


_DEFAULT_KEY = default_stickiness(_random_key)
_TARGETING_KEY = user_id_fallback(None)


def _session_or_random(ctx: ContextLike) -> str | None:
    return _SESSION_ID(ctx) or _random_key(ctx)


_SESSION_ID = reader_of("sessionId", {}, lambda: 0.0)
_AFTER_USER_ID = user_id_fallback(_session_or_random)
_USER_OR_RANDOM = user_id_fallback(_random_key)


def _first_of(*readers: Reader) -> Reader:
    """Return a reader of the first field that has a value."""

    def first(ctx: ContextLike) -> str | None:
        for read in readers:
            value = read(ctx)
            if value is not None:
                return value
        return None

    return first


def _rollout_predicate(salt: str, percent: int, read: Reader) -> Predicate:
    hash_of: Callable[[bytes, int], int] = mmh3.mmh3_32_uintdigest

    def in_rollout(ctx: ContextLike) -> bool:
        key = read(ctx)
        if type(key) is not str:  # None, or what no reader should return
            return False
        try:
            data = (salt + key).encode()
        except UnicodeEncodeError:
            return False
        return hash_of(data, 0) % ROLLOUT_TOTAL < percent

    return in_rollout
