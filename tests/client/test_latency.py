"""Latency buckets: ordered, about 4.4% wide, and the quantiles and shares read from them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit._client.latency import bucket_floor, bucket_of, quantile_bucket, share_above
from tests.helpers import examples


@settings(max_examples=examples(500))
@given(low=st.integers(0, 2**62), step=st.integers(0, 2**40))
def test_buckets_increase_with_the_duration_and_hold_it(low: int, step: int) -> None:
    """A longer duration never lands in an earlier bucket; each bucket's floor is in it."""
    assert bucket_of(low) <= bucket_of(low + step)
    bucket = bucket_of(low)
    assert bucket_floor(bucket) <= low < max(bucket_floor(bucket + 1), low + 1)
    assert bucket == bucket_of(bucket_floor(bucket))


def test_buckets_are_exact_below_32_ns_and_a_sixteenth_of_an_octave_above() -> None:
    """Small values are their own bucket; a bucket above spans 1/16 of its octave."""
    assert list(range(32)) == [bucket_of(n) for n in range(32)]
    floor = bucket_floor(bucket_of(1_000_000))
    width = bucket_floor(bucket_of(1_000_000) + 1) - floor
    assert 0.03 < width / floor < 0.07


def test_quantile_and_share_above() -> None:
    """The quantile bucket holds the q-th value; the share above it counts what is slower."""
    histogram: dict[int, int] = {}
    for n in range(1, 101):  # 1 µs .. 100 µs
        bucket = bucket_of(n * 1000)
        histogram[bucket] = histogram.get(bucket, 0) + 1
    p95 = quantile_bucket(histogram, 0.95)
    assert bucket_of(95_000) == p95
    slower, total = share_above(histogram, p95)
    assert 100 == total
    assert sum(n * 1000 >= bucket_floor(p95 + 1) for n in range(1, 101)) == slower
    assert 0 < slower <= 5
    assert quantile_bucket({}, 0.5) is None
