"""The sequential test: its closed form against brute-force integrals, its bound, its estimators."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit._client.sequential import (
    log_e_value,
    lower_bound,
    mean_difference,
    naive_z,
    proportion_difference,
    rate_difference,
)
from tests.helpers import examples


def _integrate(f: object, low: float, high: float, steps: int = 20_000) -> float:
    """Return Simpson's rule of ``f`` over [low, high] (a brute-force reference)."""
    assert callable(f)
    h = (high - low) / steps
    total = f(low) + f(high)
    for i in range(1, steps):
        total += (4 if i % 2 else 2) * f(low + i * h)
    return float(total * h / 3)


def _mixture_by_quadrature(worse_by: float, variance: float, tau: float) -> float:
    """Mix the likelihood ratio of each drift θ > 0 over a half-normal prior, numerically.

    The definition the closed form must equal: E = ∫ exp((θ·d - θ²/2)/v) · 2φ(θ/τ)/τ dθ.
    """

    def integrand(theta: float) -> float:
        ratio = math.exp((theta * worse_by - theta * theta / 2) / variance)
        prior = 2 * math.exp(-0.5 * (theta / tau) ** 2) / (tau * math.sqrt(2 * math.pi))
        return ratio * prior

    return _integrate(integrand, 0.0, 12 * tau)


@pytest.mark.parametrize(
    ("worse_by", "variance", "tau"),
    [
        (0.0, 1e-4, 0.005),
        (0.01, 1e-5, 0.005),
        (-0.004, 2e-6, 0.005),
        (0.012, 4e-6, 0.005),
        (1.5, 0.5, 1.0),
        (-2.0, 0.5, 1.0),
        (3.0, 0.25, 2.0),
    ],
)
def test_closed_form_equals_the_mixture_integral(
    worse_by: float, variance: float, tau: float
) -> None:
    """The closed-form statistic is the half-normal mixture of likelihood ratios (quadrature)."""
    expected = _mixture_by_quadrature(worse_by, variance, tau)
    assert expected == pytest.approx(math.exp(log_e_value(worse_by, variance, tau)), rel=1e-6)


@pytest.mark.parametrize(("variance", "tau"), [(1e-5, 0.005), (1.0, 1.0), (0.3, 2.0)])
def test_the_statistic_has_expectation_one_under_the_null(variance: float, tau: float) -> None:
    """E[E] = 1 when the estimate is N(0, v): a mixture of likelihood ratios, each of mean 1.

    This is what makes E a martingale under the null, and Ville's inequality
    then bounds the false-alarm rate by alpha at every stopping time.
    """
    sd = math.sqrt(variance)

    def weighted(d: float) -> float:
        log_density = -0.5 * (d / sd) ** 2 - math.log(sd * math.sqrt(2 * math.pi))
        return math.exp(log_e_value(d, variance, tau) + log_density)

    assert 1.0 == pytest.approx(_integrate(weighted, -12 * sd, 40 * sd, 40_000), rel=1e-6)


def test_no_information_is_no_evidence() -> None:
    """A variance of zero (or not finite) gives E = 1 and no bound."""
    assert [0.0, 0.0] == [log_e_value(0.5, 0.0, 1.0), log_e_value(0.5, math.inf, 1.0)]
    assert -math.inf == lower_bound(0.5, 0.0, 1.0, 0.05)


def test_far_tail_stays_finite() -> None:
    """Far below zero (where Φ underflows) log E stays finite and keeps falling."""
    far, farther = log_e_value(-50.0, 1e-3, 1.0), log_e_value(-500.0, 1e-3, 1.0)
    assert math.isfinite(farther)
    assert farther < far < log_e_value(-1.0, 1e-3, 1.0) < 0


@settings(max_examples=examples(200))
@given(
    worse_by=st.floats(-0.05, 0.05),
    variance=st.floats(1e-8, 1e-3),
    tau=st.floats(1e-3, 0.05),
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
)
def test_bound_is_where_the_test_crosses(
    worse_by: float, variance: float, tau: float, alpha: float
) -> None:
    """The bound δ solves E(d - δ) = 1/alpha, and the test trips exactly when δ > 0."""
    bound = lower_bound(worse_by, variance, tau, alpha)
    target = math.log(1 / alpha)
    assert target == pytest.approx(log_e_value(worse_by - bound, variance, tau), abs=1e-6)
    tripped = log_e_value(worse_by, variance, tau) >= target
    if abs(bound) > 1e-9 * max(1.0, abs(worse_by)):  # at the boundary itself either is right
        assert tripped == (bound > 0)


@settings(max_examples=examples(100))
@given(
    low=st.floats(-0.05, 0.05),
    step=st.floats(1e-6, 0.05),
    variance=st.floats(1e-7, 1e-3),
    tau=st.floats(1e-3, 0.05),
)
def test_statistic_increases_with_the_estimate(
    low: float, step: float, variance: float, tau: float
) -> None:
    """E grows with the estimate (so one bound separates trips from non-trips)."""
    assert log_e_value(low, variance, tau) < log_e_value(low + step, variance, tau)


def test_proportion_difference_shrinks_its_variance_estimate() -> None:
    """Rates are the raw ones; the variance adds one hit and one miss per arm (Agresti-Caffo)."""
    found = proportion_difference(3, 100, 1, 200)
    q_t, q_c = 4 / 102, 2 / 202
    expected_variance = q_t * (1 - q_t) / 102 + q_c * (1 - q_c) / 202
    assert (0.03, 0.005) == (found.treatment, found.control)
    assert expected_variance == pytest.approx(found.variance)
    assert found.estimate == pytest.approx(0.025)
    assert proportion_difference(0, 50, 0, 50).variance > 0


def test_rate_difference_uses_poisson_variance() -> None:
    """Events per call, with variance k/n² per arm (plus one pseudo-event)."""
    found = rate_difference(30, 100, 10, 50)
    assert (0.3, 0.2) == (found.treatment, found.control)
    assert (31 / 100**2 + 11 / 50**2) == pytest.approx(found.variance)


def test_mean_difference_matches_welch() -> None:
    """Means and Welch's variance from counts, sums and sums of squares."""
    treated = [3.0, 5.0, 4.0, 8.0, 1.5]
    control = [2.0, 2.5, 3.5, 1.0]
    found = mean_difference(
        (len(treated), sum(treated), sum(x * x for x in treated)),
        (len(control), sum(control), sum(x * x for x in control)),
    )
    expected = statistics.variance(treated) / 5 + statistics.variance(control) / 4
    assert statistics.mean(treated) == pytest.approx(found.treatment)
    assert statistics.mean(control) == pytest.approx(found.control)
    assert expected == pytest.approx(found.variance)


def test_naive_z_is_the_standardised_estimate() -> None:
    """The fixed-sample z statistic, for the comparison table only."""
    assert [2.0, 0.0] == [naive_z(0.02, 1e-4), naive_z(0.02, 0.0)]
