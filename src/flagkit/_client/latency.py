"""Latency histograms: log-linear buckets of nanoseconds, and quantiles read from them.

A bucket is an octave split in 16 (about 4.4% wide), so a histogram of a
toggle point's wall times stays under a few hundred entries whatever the
range, and recording one costs a ``bit_length`` and a shift. Below 32 ns
each value is its own bucket. Guards compare the share of calls whose
bucket lies above the control's quantile bucket, so what counts as slow is
a deterministic function of the measured time.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["bucket_floor", "bucket_of", "quantile_bucket", "share_above"]

_SUB_BITS = 4  # 16 buckets per octave
_EXACT = 1 << (_SUB_BITS + 1)  # values below this are their own bucket


def bucket_of(nanos: int) -> int:
    """Return the bucket of a duration in nanoseconds (increasing with it)."""
    if nanos < _EXACT:
        return max(nanos, 0)
    bits = nanos.bit_length()
    return ((bits - _SUB_BITS) << _SUB_BITS) | ((nanos >> (bits - _SUB_BITS - 1)) & 15)


def bucket_floor(bucket: int) -> int:
    """Return the smallest duration (ns) in ``bucket``."""
    if bucket < _EXACT:
        return bucket
    bits = (bucket >> _SUB_BITS) + _SUB_BITS
    return (16 + (bucket & 15)) << (bits - _SUB_BITS - 1)


def quantile_bucket(histogram: Mapping[int, int], quantile: float) -> int | None:
    """Return the bucket holding the ``quantile`` of a histogram (None when empty)."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    wanted = quantile * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= wanted:
            return bucket
    return max(histogram)


def share_above(histogram: Mapping[int, int], bucket: int) -> tuple[int, int]:
    """Return (calls in buckets above ``bucket``, all calls) of a histogram."""
    above = sum(count for b, count in histogram.items() if b > bucket)
    return above, sum(histogram.values())
