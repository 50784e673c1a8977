"""A sequential test that stays valid when it is looked at after every observation.

Pure functions of summary statistics: no state, no I/O, no clock. Guards
(``guards.py``) and ``flagkit guard simulate`` call them.

**The statistic.** Let ``d`` be the estimated difference between the
treatment and the control, signed so that a positive ``d`` is worse, and
``v`` its estimated variance. Under the normal approximation, the
likelihood ratio of a drift ``λ`` against none, in information time
``1/v``, is ``exp(λ·d/v - λ²/(2v))``. Mixing ``λ`` over a half-normal
prior of scale ``τ`` (the smallest effect worth stopping for) gives the
one-sided mixture sequential probability ratio (mSPRT)::

    E = 2 · sqrt(v / (v + τ²)) · exp(τ²·d² / (2·v·(v + τ²))) · Φ(d·τ / sqrt(v·(v + τ²)))

Under the null hypothesis (the treatment is no worse, ``Δ <= 0``) ``E`` is
a nonnegative supermartingale that starts at 1, so Ville's inequality gives
``P(sup_t E_t >= 1/alpha) <= alpha``: stopping the first time ``E >= 1/alpha`` keeps
the false-alarm rate at most ``alpha`` however often one looks. A fixed-sample
test looked at after every observation has no such bound (see
``naive_z``).

The always-valid bound is the ``δ`` at which ``E`` of ``d - δ`` equals
``1/alpha``: with confidence ``1 - alpha``, at every time at once, the true
difference is at least that bound. ``E >= 1/alpha`` exactly when the bound is
above zero.

Sources: H. Robbins, "Statistical methods related to the law of the
iterated logarithm", Ann. Math. Statist. 41 (1970) — the normal mixture;
R. Johari, P. Koomen, L. Pekelis, D. Walsh, "Always valid inference:
continuous monitoring of A/B tests", Operations Research 70(3) (2022) —
the two-sample mSPRT with this ``v``; S. R. Howard, A. Ramdas, J.
McAuliffe, J. Sekhon, "Time-uniform Chernoff bounds via nonnegative
supermartingales", Probability Surveys 17 (2020), §3 — the one-sided
(half-normal) mixture. The normal approximation makes the guarantee
asymptotic; the minimum sample of a guard keeps the test from running on
a handful of observations, and the simulations in ``docs/monitoring.md``
measure the false-alarm rate that results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "Difference",
    "Sums",
    "log_e_value",
    "lower_bound",
    "mean_difference",
    "naive_z",
    "proportion_difference",
    "rate_difference",
]

_SQRT2 = math.sqrt(2.0)
_LOG2 = math.log(2.0)


@dataclass(frozen=True, slots=True)
class Difference:
    """An estimated difference (treatment minus control) and its estimated variance."""

    treatment: float
    control: float
    variance: float

    @property
    def estimate(self) -> float:
        """Return treatment minus control."""
        return self.treatment - self.control


def _log_phi(x: float) -> float:
    """Return log Φ(x), the log of the standard normal distribution function."""
    value = 0.5 * math.erfc(-x / _SQRT2)
    if value > 0.0:
        return math.log(value)
    # Far in the lower tail: Φ(x) ~ φ(x) / -x (Mills' ratio).
    return -0.5 * x * x - math.log(-x) - 0.5 * math.log(2 * math.pi)


def log_e_value(worse_by: float, variance: float, tau: float) -> float:
    """Return log E, the one-sided normal-mixture statistic (see the module docstring).

    ``worse_by`` is the estimated difference signed so that positive is
    worse; ``tau`` the mixture's scale, > 0. A variance of zero carries no
    information: log E is then 0 (E = 1).
    """
    if variance <= 0.0 or not math.isfinite(variance):
        return 0.0
    spread = variance + tau * tau
    return (
        _LOG2
        + 0.5 * math.log(variance / spread)
        + (tau * tau * worse_by * worse_by) / (2.0 * variance * spread)
        + _log_phi(worse_by * tau / math.sqrt(variance * spread))
    )


def lower_bound(worse_by: float, variance: float, tau: float, alpha: float) -> float:
    """Return the always-valid lower confidence bound of the (signed) difference.

    The ``δ`` at which ``log_e_value(worse_by - δ, ...)`` equals ``log(1/alpha)``;
    ``-inf`` when the variance carries no information. Found by bisection:
    E increases with its first argument.
    """
    if variance <= 0.0 or not math.isfinite(variance):
        return -math.inf
    target = math.log(1.0 / alpha)
    spread = variance + tau * tau
    # At a shift y this high the exp term alone exceeds the target (Φ >= 1/2 cancels the 2).
    high = math.sqrt(
        2.0 * variance * spread / (tau * tau) * (target + 0.5 * math.log(spread / variance) + 1.0)
    )
    low = 0.0
    for _ in range(100):
        middle = 0.5 * (low + high)
        if log_e_value(middle, variance, tau) < target:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return worse_by - high


def proportion_difference(
    hits_treatment: int, n_treatment: int, hits_control: int, n_control: int
) -> Difference:
    """Return the difference of two proportions (e.g. error rates) and its variance.

    The variance is the unpooled one, each proportion shrunk by one hit and
    one miss (Agresti and Caffo, "Simple and effective confidence intervals
    for proportions and differences of proportions", Amer. Statist. 54,
    2000): it is never zero, and a handful of early errors cannot look like
    certainty.
    """
    p_t = hits_treatment / n_treatment
    p_c = hits_control / n_control
    q_t = (hits_treatment + 1) / (n_treatment + 2)
    q_c = (hits_control + 1) / (n_control + 2)
    variance = q_t * (1 - q_t) / (n_treatment + 2) + q_c * (1 - q_c) / (n_control + 2)
    return Difference(p_t, p_c, variance)


def rate_difference(
    events_treatment: int, n_treatment: int, events_control: int, n_control: int
) -> Difference:
    """Return the difference of two event rates per call (Poisson counts) and its variance.

    A count ``k`` over ``n`` calls estimates a rate ``k/n`` of variance
    ``k/n²``; one pseudo-event per arm keeps it above zero.
    """
    variance = (events_treatment + 1) / n_treatment**2 + (events_control + 1) / n_control**2
    return Difference(events_treatment / n_treatment, events_control / n_control, variance)


Sums = tuple[int, float, float]


def mean_difference(treatment: Sums, control: Sums) -> Difference:
    """Return the difference of two means, each arm given as (count, sum, sum of squares).

    The variance is Welch's, ``s_t²/n_t + s_c²/n_c``, with the unbiased
    sample variances; each arm needs at least two values.
    """
    means: list[float] = []
    variance = 0.0
    for n, total, squares in (treatment, control):
        mean = total / n
        means.append(mean)
        variance += max(squares - n * mean * mean, 0.0) / (n - 1) / n
    return Difference(means[0], means[1], variance)


def naive_z(worse_by: float, variance: float) -> float:
    """Return the fixed-sample z statistic ``d / sqrt(v)`` (for comparison only).

    Valid once, at a sample size fixed in advance; checked after every
    observation it crosses any fixed threshold eventually, which is why the
    guards use ``log_e_value`` instead.
    """
    if variance <= 0.0:
        return 0.0
    return worse_by / math.sqrt(variance)
