"""What a tripped guard serves: plans rolled back or paused, and dependents rewired (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from flagkit._core.details import Reason
from flagkit._core.guarded import (
    PAUSE_RULE,
    ROLLBACK_RULE,
    guarded_ramp_time,
    paused,
    recompiled,
    rolled_back,
    with_flags,
)
from flagkit._core.snapshot import Snapshot
from flagkit._sources.pipeline import snapshot_from_data

GUARD = {"control": "off", "metrics": [{"metric": "error_rate", "effect": 0.01}]}
USERS = [{"targetingKey": f"user-{i}", "staff": i % 7 == 0} for i in range(2000)]


def _at(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def _snapshot(clock: float = 0.0, **extra_flags: Any) -> Snapshot:
    ramp = {
        "weights": {"on": 10, "off": 90},
        "schedule": [{"at": "2026-12-05T00:00:00+00:00", "weights": {"on": 50, "off": 50}}],
        "guard": GUARD,
    }
    flags = {
        "canary": {
            "variants": {"on": True, "off": False},
            "rules": [
                {"when": [{"attribute": "staff", "op": "equals", "value": True}], "serve": "on"}
            ],
            "default": {"rollout": ramp},
        },
        **extra_flags,
    }
    return snapshot_from_data({"flags": flags}, clock=lambda: clock)


def _serving(snapshot: Snapshot, key: str) -> list[tuple[str | None, str, str | None]]:
    evaluate = snapshot.flags[key].evaluate
    return [(r.variant, r.reason.value, r.rule) for r, _ in map(evaluate, USERS)]


def test_rollback_serves_the_control_to_everyone() -> None:
    """Rules and the rollout give way to the control: TARGETING_MATCH, rule guard:rollback."""
    snapshot = _snapshot()
    flag = snapshot.flags["canary"]
    tripped = recompiled(flag, rolled_back(flag.plan, flag.variants["off"]))
    served = {tuple(r.variant for r in [tripped.evaluate(u)[0]]) for u in USERS}
    assert {("off",)} == served
    resolution = tripped.evaluate(USERS[0])[0]
    assert (False, Reason.TARGETING_MATCH, ROLLBACK_RULE) == (
        resolution.value,
        resolution.reason,
        resolution.rule,
    )
    assert tripped.constant is resolution  # no prerequisites: the getter skips the call
    assert (flag.fingerprint, flag.plan.guard) == (tripped.fingerprint, tripped.plan.guard)


def test_pause_holds_the_ramp_step_of_the_trip() -> None:
    """A paused ramp keeps the step in force at the trip: nobody moves, even later."""
    early = _at("2026-12-01T00:00:00+00:00")
    before = _snapshot(clock=early)
    flag = before.flags["canary"]
    held = recompiled(flag, paused(flag.plan, early))
    later = _snapshot(clock=_at("2026-12-09T00:00:00+00:00"))
    moved = _serving(later, "canary")
    still = [(v, reason, rule) for v, reason, rule in _serving(before, "canary")]
    now = [(r.variant, r.reason.value, r.rule) for r, _ in map(held.evaluate, USERS)]
    assert [v for v, _, _ in still] == [v for v, _, _ in now]
    assert [v for v, _, _ in moved] != [v for v, _, _ in now]  # the ramp would have moved on
    assert {PAUSE_RULE} == {rule for _, reason, rule in now if reason == "SPLIT"}
    assert {"rules[0]"} == {rule for _, reason, rule in now if reason == "TARGETING_MATCH"}


def test_guarded_ramp_time_reads_the_ramps_clock() -> None:
    """The time a pause holds comes from the ramp's own (injectable) clock."""
    stamp = _at("2026-12-06T00:00:00+00:00")
    assert stamp == guarded_ramp_time(_snapshot(clock=stamp).flags["canary"].plan)
    static = snapshot_from_data(
        {
            "flags": {
                "f": {
                    "variants": {"on": True, "off": False},
                    "default": {"rollout": {"weights": {"on": 50, "off": 50}, "guard": GUARD}},
                }
            }
        }
    )
    assert guarded_ramp_time(static.flags["f"].plan) is None


def test_a_plan_without_a_guard_is_refused() -> None:
    """Only a guarded plan can be rolled back or paused."""
    plain = snapshot_from_data({"flags": {"f": {"variants": {"on": True}, "default": "on"}}})
    with pytest.raises(ValueError, match="has no guard"):
        rolled_back(plain.flags["f"].plan, True)
    with pytest.raises(ValueError, match="has no guard"):
        paused(plain.flags["f"].plan, 0.0)


def test_dependents_see_the_replaced_flag_transitively() -> None:
    """A flag gated on a tripped flag, and one gated on that, are rewired to it."""
    dependent = {
        "variants": {"on": True, "off": False},
        "off_variant": "off",
        "prerequisites": [{"flag": "canary", "variants": ["on"]}],
        "default": "on",
    }
    second = {**dependent, "prerequisites": [{"flag": "dependent", "variants": ["on"]}]}
    snapshot = _snapshot(
        dependent=dependent, second=second, other={"variants": {"x": 1}, "default": "x"}
    )
    staff = next(u for u in USERS if u["staff"])
    assert "on" == snapshot.flags["second"].evaluate(staff)[0].variant
    flag = snapshot.flags["canary"]
    live = with_flags(snapshot, {"canary": recompiled(flag, rolled_back(flag.plan, False))})
    assert ["off", "off", "off"] == [
        live.flags[key].evaluate(staff)[0].variant for key in ("canary", "dependent", "second")
    ]
    assert live.flags["other"] is snapshot.flags["other"]  # untouched flags are shared
    assert (snapshot.origin, snapshot.revision) == (live.origin, live.revision)
    assert live.evaluators[0]["canary"] is live.flags["canary"].constant


def test_nothing_replaced_is_the_same_snapshot() -> None:
    """No replacement costs nothing: the snapshot itself comes back."""
    snapshot = _snapshot()
    assert snapshot is with_flags(snapshot, {})


def test_pause_holds_a_guarded_rules_rollout_and_leaves_the_rest() -> None:
    """A guard on a rule's ramp pauses that rule's serve; other rules and the default stay."""
    ramp = {
        "weights": {"on": 10, "off": 90},
        "schedule": [{"at": "2026-12-05T00:00:00+00:00", "weights": {"on": 90, "off": 10}}],
        "guard": {**GUARD, "action": "pause"},
    }
    flags = {
        "f": {
            "variants": {"on": True, "off": False},
            "rules": [
                {"when": [{"attribute": "staff", "op": "equals", "value": True}], "serve": "on"},
                {
                    "name": "canary",
                    "when": [{"attribute": "targetingKey", "op": "exists"}],
                    "serve": {"rollout": ramp},
                },
            ],
            "default": "off",
        }
    }
    early = _at("2026-12-01T00:00:00+00:00")
    flag = snapshot_from_data({"flags": flags}, clock=lambda: early).flags["f"]
    held = recompiled(flag, paused(flag.plan, early))
    staff = next(u for u in USERS if u["staff"])
    canary = [u for u in USERS if not u["staff"]]
    assert ("on", "rules[0]") == (held.evaluate(staff)[0].variant, held.evaluate(staff)[0].rule)
    served = [held.evaluate(u)[0] for u in canary]
    assert {PAUSE_RULE} == {r.rule for r in served}
    assert [r.variant for r in served] == [flag.evaluate(u)[0].variant for u in canary]
    assert held.plan.rules[0] is flag.plan.rules[0]
    assert held.plan.default == flag.plan.default


def test_time_and_pause_of_plans_a_guard_does_not_shape() -> None:
    """No guard: no ramp time. A guard on a fixed serve (built by hand): pause keeps it."""
    plain = snapshot_from_data({"flags": {"f": {"variants": {"on": True}, "default": "on"}}})
    assert guarded_ramp_time(plain.flags["f"].plan) is None
    guarded_plan = _snapshot().flags["canary"].plan
    fixed = dataclasses.replace(guarded_plan, default=plain.flags["f"].plan.default)
    assert fixed.default is paused(fixed, 0.0).default


def test_recompiling_keeps_every_field_but_the_plan() -> None:
    """A tripped flag keeps its key, type, variants, metadata, views and fingerprint."""
    flag = _snapshot().flags["canary"]
    tripped = recompiled(flag, rolled_back(flag.plan, False))
    changed = {"plan", "evaluate", "evaluate_fast", "constant"}
    for name in set(type(flag).__slots__) - changed:
        assert getattr(flag, name) == getattr(tripped, name), name
    assert tripped.plan is not flag.plan
