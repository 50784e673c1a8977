"""Rollout arithmetic, written once: weights, cumulative bounds, ramp steps, shares.

Every part of flagkit that reasons about a percentage rollout uses these
functions: validation (weights add up), compilation and code generation
(bounds), explain (ranges and the ramp step in force), lint, simulate and
diff, the flagd compiler (``fractional``), and ``flagkit.testing``.

A rollout divides ``total`` buckets (``PERCENT_TOTAL`` for native
rollouts, whose weights are hundredths of a percent; the weight sum for
flagd's ``fractional``) among variants in declared order. A bucket ``b``
gets the first variant whose cumulative upper bound is above ``b``
(``docs/bucketing.md``). Raising one variant's weight at the expense of
the last one never moves a user off it (monotonic ramps, DESIGN 6).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

__all__ = [
    "PERCENT_TOTAL",
    "cumulative",
    "hundredths",
    "pick",
    "ranges",
    "shares",
    "step_index",
]

#: The bucket space of a native rollout: weights are hundredths of a percent.
PERCENT_TOTAL = 10_000

T = TypeVar("T")


def hundredths(weights: Mapping[str, float]) -> dict[str, int] | None:
    """Return percentage weights as integer hundredths, or None if finer than 0.01.

    Float noise from generated files (``100 - 76.73`` is ``23.269999999999996``)
    is rounded away; a real third decimal is refused.
    """
    result: dict[str, int] = {}
    for variant, weight in weights.items():
        scaled = weight * 100
        rounded = round(scaled)
        if abs(scaled - rounded) > 1e-6:
            return None
        result[variant] = rounded
    return result


def cumulative(weights: Iterable[tuple[T, int]]) -> tuple[tuple[int, T], ...]:
    """Return ``(upper bound, item)`` for each item of positive weight, in order.

    A bucket below an item's bound and at or above the previous bound gets
    that item; items of zero weight get no bucket and no bound.
    """
    bounds: list[tuple[int, T]] = []
    end = 0
    for item, weight in weights:
        if weight > 0:
            end += weight
            bounds.append((end, item))
    return tuple(bounds)


def pick(bounds: Sequence[tuple[int, T]], bucket: int) -> T | None:
    """Return the item whose range holds ``bucket`` (None past the last bound)."""
    for bound, item in bounds:
        if bucket < bound:
            return item
    return None


def ranges(weights: Iterable[tuple[T, int]]) -> list[tuple[T, int, int]]:
    """Return ``(item, start, end)``: the half-open bucket range of every item.

    Items of zero weight are kept, with an empty range, so a trace can show
    every declared variant.
    """
    result: list[tuple[T, int, int]] = []
    start = 0
    for item, weight in weights:
        end = start + max(weight, 0)
        result.append((item, start, end))
        start = end
    return result


def step_index(step_times: Sequence[float], now: float) -> int:
    """Return which weights of a ramp are in force at ``now``.

    0 means the rollout's own weights (before the first step); ``i`` means
    step ``i`` (1-based), in force from its time on, inclusive.
    """
    return bisect.bisect_right(step_times, now)


def shares(weights: Iterable[tuple[T, int]]) -> dict[T, float]:
    """Return each item's expected share of users (weights normalised to sum 1).

    An item listed twice (flagd allows it) gets the sum of its shares.
    """
    pairs = list(weights)
    total = sum(max(weight, 0) for _, weight in pairs)
    result: dict[T, float] = {}
    for item, weight in pairs:
        result[item] = result.get(item, 0.0) + (max(weight, 0) / total if total > 0 else 0.0)
    return result
