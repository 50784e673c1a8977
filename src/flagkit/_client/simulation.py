"""Simulated guarded rollouts: how often a guard trips, and how soon (seeded, pure).

Each simulated rollout sends ``users`` calls through a treatment and a
control arm (a share ``share`` treated, ``control_share`` in the control,
the rest elsewhere), draws each call's outcome, and applies the guard's
test after **every** call, the way ``guards.Monitor`` decides with the same
pieces: the minimum sample per arm, ``proportion_difference``,
``log_e_value`` at the comparison's alpha, and for latency the control's
quantile bucket learned from its first ``min_sample`` calls (``latency``).
Beside it runs the naive test the guard replaces: a one-sided fixed-sample
z-test looked at after every call, which is why its false-alarm rate
grows far beyond alpha.

``flagkit guard simulate``, the tests and ``benchmarks/guards.py`` run it.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from flagkit._client.latency import bucket_of, quantile_bucket
from flagkit._client.sequential import log_e_value, naive_z, proportion_difference

__all__ = [
    "Rollout",
    "TripRate",
    "error_outcome",
    "latency_outcome",
    "normal_quantile",
    "simulate",
    "wilson_interval",
]

#: Draws one call's outcome: (failed or slow, latency in ns or 0), given the arm.
Draw = Callable[[random.Random, bool], tuple[bool, int]]


def normal_quantile(p: float) -> float:
    """Return the standard normal quantile of ``p`` (bisection on erfc; for small tables)."""
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if 0.5 * math.erfc(-middle / math.sqrt(2)) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def wilson_interval(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (E. B. Wilson, JASA 22, 1927)."""
    if n == 0:
        return (0.0, 1.0)
    z = normal_quantile(1 - (1 - confidence) / 2)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - spread), min(1.0, centre + spread))


@dataclass(frozen=True, slots=True)
class TripRate:
    """How many simulated rollouts tripped, and after how many treated (and all) users."""

    runs: int
    treated_at_trip: tuple[int, ...]
    users_at_trip: tuple[int, ...]

    @property
    def trips(self) -> int:
        """Return the number of rollouts that tripped."""
        return len(self.treated_at_trip)

    @property
    def rate(self) -> float:
        """Return the share of rollouts that tripped."""
        return self.trips / self.runs if self.runs else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """Return the 95% Wilson interval of the rate."""
        return wilson_interval(self.trips, self.runs)

    @property
    def median_treated(self) -> float | None:
        """Return the median number of treated users at a trip (None without trips)."""
        return statistics.median(self.treated_at_trip) if self.treated_at_trip else None

    @property
    def median_users(self) -> float | None:
        """Return the median number of users (all arms) at a trip (None without trips)."""
        return statistics.median(self.users_at_trip) if self.users_at_trip else None


@dataclass(frozen=True, slots=True)
class Rollout:
    """One simulated configuration: the guard's settings, the traffic, the truth.

    ``metric`` is ``error_rate`` (``draw`` gives failures) or ``latency``
    (``draw`` gives wall times, ``quantile`` defines slow). ``alpha`` is the
    comparison's own (the guard's alpha over its comparisons).
    """

    draw: Draw
    effect: float
    alpha: float = 0.05
    min_sample: int = 500
    share: float = 0.5
    control_share: float | None = None
    users: int = 100_000
    metric: Literal["error_rate", "latency"] = "error_rate"
    quantile: float = 0.95
    naive: bool = True
    label: str = field(default="", compare=False)


def error_outcome(control: float, treatment: float) -> Draw:
    """Return a draw of failures: each call fails with its arm's probability."""

    def draw(rng: random.Random, treated: bool) -> tuple[bool, int]:
        return rng.random() < (treatment if treated else control), 0

    return draw


def latency_outcome(mu: float, sigma: float, factor: float) -> Draw:
    """Return a draw of log-normal wall times (ns), the treatment's ``factor`` times slower."""

    def draw(rng: random.Random, treated: bool) -> tuple[bool, int]:
        seconds = rng.lognormvariate(mu, sigma) * (factor if treated else 1.0)
        return False, int(seconds * 1e9)

    return draw


def simulate(rollout: Rollout, runs: int, seed: int) -> tuple[TripRate, TripRate]:
    """Run ``runs`` seeded rollouts; return the guard's and the naive test's trip rates."""
    rng = random.Random(seed)
    guard: list[tuple[int, int]] = []
    naive: list[tuple[int, int]] = []
    for _ in range(runs):
        found, fooled = _one(rollout, rng)
        if found is not None:
            guard.append(found)
        if fooled is not None:
            naive.append(fooled)
    return _rate(runs, guard), _rate(runs, naive)


def _rate(runs: int, trips: list[tuple[int, int]]) -> TripRate:
    return TripRate(runs, tuple(t for t, _ in trips), tuple(u for _, u in trips))


def _one(
    rollout: Rollout, rng: random.Random
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """Return (treated, users) at the guard's trip and at the naive test's (None: no trip)."""
    share = rollout.share
    in_either = share + (1 - share if rollout.control_share is None else rollout.control_share)
    min_sample, tau, draw = rollout.min_sample, rollout.effect, rollout.draw
    target = math.log(1 / rollout.alpha)
    naive_bar = normal_quantile(1 - rollout.alpha) if rollout.naive else math.inf
    latency = rollout.metric == "latency"
    learning: dict[int, int] = {}  # the control's warm-up histogram (latency)
    learned = 0
    slow_above: int | None = None
    n_t = n_c = hits_t = hits_c = 0
    found = fooled = None
    random_ = rng.random
    for user in range(1, rollout.users + 1):
        arm = random_()
        if arm >= in_either:
            continue
        treated = arm < share
        failed, nanos = draw(rng, treated)
        if latency:
            bucket = bucket_of(nanos)
            if slow_above is None:
                if not treated:
                    learning[bucket] = learning.get(bucket, 0) + 1
                    learned += 1
                    if learned >= min_sample:
                        slow_above = quantile_bucket(learning, rollout.quantile)
                continue
            failed = bucket > slow_above
        if treated:
            n_t += 1
            hits_t += failed
        else:
            n_c += 1
            hits_c += failed
        if n_t < min_sample or n_c < min_sample:
            continue
        difference = proportion_difference(hits_t, n_t, hits_c, n_c)
        worse_by = difference.estimate
        if worse_by <= 0:
            continue
        if fooled is None and naive_z(worse_by, difference.variance) >= naive_bar:
            fooled = (n_t, user)
        if found is None and log_e_value(worse_by, difference.variance, tau) >= target:
            found = (n_t, user)
        if found is not None and (fooled is not None or not rollout.naive):
            break
    return found, fooled
