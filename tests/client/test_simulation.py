"""Proof by simulation (seeded, small): the guard keeps alpha under peeking and finds regressions.

The full tables (1,000 rollouts per case) come from ``benchmarks/guards.py``
and are shown in docs/monitoring.md; these runs are small enough for every
test run and large enough that each assertion could fail.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from types import MappingProxyType

import pytest

from flagkit._client.guards import Monitor
from flagkit._client.latency import bucket_of
from flagkit._client.outcomes import OutcomeTotals
from flagkit._client.simulation import (
    Rollout,
    error_outcome,
    latency_outcome,
    normal_quantile,
    simulate,
    wilson_interval,
)
from flagkit._sources.pipeline import snapshot_from_data
from flagkit.testing import FlagSet, guard, metric

ALPHA = 0.05


def test_no_regression_trips_at_most_alpha_while_naive_peeking_does_not() -> None:
    """A/A: the guard's false-trip rate stays under alpha; a z-test checked every call does not."""
    rollout = Rollout(error_outcome(0.02, 0.02), effect=0.01, min_sample=200, users=5000)
    guarded, naive = simulate(rollout, runs=200, seed=1)
    assert guarded.rate <= ALPHA
    assert naive.rate >= 3 * ALPHA
    assert guarded.interval[0] <= guarded.rate <= guarded.interval[1]


def test_a_real_regression_is_found_in_nine_rollouts_out_of_ten() -> None:
    """A/B: 2% -> 4% errors is detected in at least 90% of rollouts, early."""
    rollout = Rollout(
        error_outcome(0.02, 0.04), effect=0.01, min_sample=200, users=8000, naive=False
    )
    guarded, naive = simulate(rollout, runs=100, seed=2)
    assert guarded.rate >= 0.9
    assert guarded.median_treated is not None
    assert 200 <= guarded.median_treated < 4000
    assert 0 == naive.trips  # not run


def test_latency_regressions_behave_the_same_way() -> None:
    """A shifted latency distribution is found; an unshifted one keeps alpha."""
    common = {"effect": 0.05, "min_sample": 200, "users": 3000, "metric": "latency"}
    same, naive = simulate(Rollout(latency_outcome(-4.6, 0.5, 1.0), **common), runs=150, seed=3)  # type: ignore[arg-type]
    slower, _ = simulate(Rollout(latency_outcome(-4.6, 0.5, 1.3), **common), runs=60, seed=4)  # type: ignore[arg-type]
    assert same.rate <= ALPHA
    assert naive.rate > same.rate
    assert slower.rate >= 0.9


def test_a_smaller_share_of_traffic_is_still_compared() -> None:
    """Arms of unequal size (a 10% canary): the treated count runs behind the users."""
    rollout = Rollout(
        error_outcome(0.02, 0.05), effect=0.01, min_sample=100, share=0.1, users=20_000, naive=False
    )
    guarded, _ = simulate(rollout, runs=30, seed=5)
    assert guarded.rate >= 0.9
    assert guarded.median_users is not None
    assert guarded.median_treated is not None
    assert guarded.median_users > 5 * guarded.median_treated


def test_users_in_other_arms_count_toward_the_users_only() -> None:
    """A three-way rollout: calls of the third variant pass by the comparison."""
    rollout = Rollout(
        error_outcome(0.02, 0.08),
        effect=0.02,
        min_sample=100,
        share=0.2,
        control_share=0.3,
        users=6000,
        naive=False,
    )
    guarded, _ = simulate(rollout, runs=20, seed=6)
    assert guarded.rate >= 0.9
    assert guarded.median_users is not None
    assert guarded.median_treated is not None
    assert guarded.median_users > 4 * guarded.median_treated  # half the users go elsewhere


def _monitor(*metrics: dict[str, object], min_sample: int) -> Monitor:
    document = (
        FlagSet()
        .rollout("f", {"on": 50, "off": 50}, guard=guard("off", *metrics, min_sample=min_sample))
        .document()
    )
    flag = snapshot_from_data(document).flags["f"]
    assert flag.plan.guard is not None
    return Monitor(flag, flag.plan.guard, {})


def _stream(seed: int, users: int, draw: object) -> Iterator[tuple[int, bool, bool, int]]:
    """Replay the simulation's draws: (user, treated, failed, nanos) of each call."""
    rng = random.Random(seed)
    for user in range(1, users + 1):
        arm = rng.random()
        treated = arm < 0.5
        failed, nanos = draw(rng, treated)  # type: ignore[operator]
        yield user, treated, failed, nanos


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_simulation_decides_as_the_guard_monitor_does(seed: int) -> None:
    """Fed the same calls one by one, the real Monitor trips at the simulated call."""
    draw = error_outcome(0.02, 0.06)
    rollout = Rollout(draw, effect=0.01, min_sample=100, users=3000, naive=False)
    (simulated,), _ = [simulate(rollout, 1, seed)[0].users_at_trip], None
    monitor = _monitor(metric("error_rate", 0.01), min_sample=100)
    counts = {"on": [0, 0], "off": [0, 0]}
    for user, treated, failed, _ in _stream(seed, 3000, draw):
        arm = counts["on" if treated else "off"]
        arm[0] += 1
        arm[1] += failed
        totals = {v: OutcomeTotals(calls=c, errors=e) for v, (c, e) in counts.items()}
        if monitor.examine(totals) is not None:
            assert simulated == (user,)
            return
    pytest.fail("the monitor never tripped")


def test_the_latency_simulation_decides_as_the_guard_monitor_does() -> None:
    """Same for latency: the threshold learned from the control's first calls, then shares."""
    draw = latency_outcome(-4.6, 0.5, 1.5)
    rollout = Rollout(draw, effect=0.05, min_sample=100, users=3000, metric="latency", naive=False)
    simulated = simulate(rollout, 1, 21)[0].users_at_trip
    monitor = _monitor(metric("latency", 0.05), min_sample=100)
    histograms: dict[str, dict[int, int]] = {"on": {}, "off": {}}
    for user, treated, _, nanos in _stream(21, 3000, draw):
        histogram = histograms["on" if treated else "off"]
        bucket = bucket_of(nanos)
        histogram[bucket] = histogram.get(bucket, 0) + 1
        totals = {
            v: OutcomeTotals(calls=sum(h.values()), histogram=MappingProxyType(dict(h)))
            for v, h in histograms.items()
        }
        if monitor.examine(totals) is not None:
            assert (user,) == simulated
            return
    pytest.fail("the monitor never tripped")


def test_wilson_interval_and_normal_quantile() -> None:
    """The interval of the tables (Wilson 1927) and the quantile it needs, against known values."""
    assert 1.959964 == pytest.approx(normal_quantile(0.975), abs=1e-6)
    assert 1.644854 == pytest.approx(normal_quantile(0.95), abs=1e-6)
    low, high = wilson_interval(50, 1000)
    assert (0.03813, 0.06531) == (pytest.approx(low, abs=1e-5), pytest.approx(high, abs=1e-5))
    assert (0.0, 1.0) == wilson_interval(0, 0)
    assert 0.0 == wilson_interval(0, 100)[0]
    assert math.isclose(wilson_interval(100, 100)[1], 1.0)
