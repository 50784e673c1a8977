"""What a tripped guard serves: a flag's plan rolled back or paused (pure).

The client decides when a guard trips (``_client.guards``); these functions
only rewrite the plan, which ``codegen`` then renders like any other, so a
tripped flag costs what an untripped one does. Every resolution they make
names the guard as its rule (``guard:rollback``, ``guard:pause``), so
details say why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flagkit._core.codegen import compiled_flag
from flagkit._core.details import Reason
from flagkit._core.plan import Plan, Ramp, Serve, Split
from flagkit._core.snapshot import CompiledFlag, Resolution, Snapshot

__all__ = [
    "PAUSE_RULE",
    "ROLLBACK_RULE",
    "guarded_ramp_time",
    "paused",
    "recompiled",
    "rolled_back",
    "with_flags",
]

ROLLBACK_RULE = "guard:rollback"
PAUSE_RULE = "guard:pause"


def rolled_back(plan: Plan, control_value: Any) -> Plan:
    """Return ``plan`` serving its guard's control to everyone its prerequisites let through.

    The reason is TARGETING_MATCH and the rule ``guard:rollback``; the kill
    switch and the prerequisites still apply.
    """
    guard = plan.guard
    if guard is None:
        raise ValueError(f"{plan.flag_key!r} has no guard")
    control = Resolution(
        plan.flag_key,
        value=control_value,
        variant=guard.control,
        reason=Reason.TARGETING_MATCH,
        rule=ROLLBACK_RULE,
    )
    return Plan(plan.flag_key, default=control.outcome, gates=plan.gates, guard=guard)


def guarded_ramp_time(plan: Plan) -> float | None:
    """Return the time on the guarded ramp's clock now (None when the guarded serve is no ramp)."""
    guard = plan.guard
    if guard is None:
        return None
    serve = plan.default if guard.rule is None else plan.rules[guard.rule].serve
    return serve.clock() if isinstance(serve, Ramp) else None


def paused(plan: Plan, now: float) -> Plan:
    """Return ``plan`` with its guarded ramp held at the step in force at ``now``.

    The held split keeps its weights and buckets (nobody moves); its
    resolutions name the rule ``guard:pause``. A rollout without a schedule
    keeps serving as it did.
    """
    guard = plan.guard
    if guard is None:
        raise ValueError(f"{plan.flag_key!r} has no guard")
    if guard.rule is None:
        return dataclasses.replace(plan, default=_held(plan.default, now))
    rules = list(plan.rules)
    rule = rules[guard.rule]
    rules[guard.rule] = dataclasses.replace(rule, serve=_held(rule.serve, now))
    return dataclasses.replace(plan, rules=tuple(rules))


def _held(serve: Serve, now: float) -> Serve:
    if isinstance(serve, Ramp):
        serve = serve.steps[serve.step_at(now)]
    if not isinstance(serve, Split):
        return serve
    weights = tuple(
        (
            Resolution(
                r.flag_key, value=r.value, variant=r.variant, reason=r.reason, rule=PAUSE_RULE
            ),
            weight,
        )
        for r, weight in serve.weights
    )
    return dataclasses.replace(serve, weights=weights)


def recompiled(flag: CompiledFlag, plan: Plan) -> CompiledFlag:
    """Return ``flag`` following ``plan`` instead (every other field kept as it is).

    ``CompiledFlag``'s constructor takes its fields by their slot names;
    ``constant`` follows from the plan, ``evaluate`` and ``evaluate_fast``
    are rendered from it.
    """
    kept = {
        name: getattr(flag, name)
        for name in CompiledFlag.__slots__
        if name not in ("key", "plan", "evaluate", "evaluate_fast", "constant")
    }
    return compiled_flag(plan, **kept)


def with_flags(snapshot: Snapshot, replaced: Mapping[str, CompiledFlag]) -> Snapshot:
    """Return ``snapshot`` with flags replaced; flags gated on them are rewired to see them.

    A prerequisite gate holds the compiled flag it depends on, so every
    flag whose gate still holds a replaced object is recompiled with the
    new one, transitively (prerequisites form no cycle, so this ends).
    """
    if not replaced:
        return snapshot
    flags = {**snapshot.flags, **replaced}
    while True:
        rewired = {
            key: recompiled(
                flag,
                dataclasses.replace(
                    flag.plan,
                    gates=tuple(
                        dataclasses.replace(gate, flag=flags.get(gate.flag.key, gate.flag))
                        for gate in flag.plan.gates
                    ),
                ),
            )
            for key, flag in flags.items()
            if any(flags.get(g.flag.key, g.flag) is not g.flag for g in flag.plan.gates)
        }
        if not rewired:
            return dataclasses.replace(snapshot, flags=flags)
        flags.update(rewired)
