"""Deterministic bucketing: the one formula every rollout uses.

The formula is specified in ``docs/bucketing.md`` and pinned by
``tests/data/bucketing_vectors.json``; changing it moves users between
variants and is a breaking change.

    bucket = (murmur3_x86_32(utf8(salt + value), seed=0) * total) >> 32

It is the integer arithmetic of flagd's ``fractional`` operator (v2), so a
flagkit rollout and a flagd fractional rule with the same salt agree.
"""

from __future__ import annotations

import mmh3

__all__ = ["PERCENT_TOTAL", "bucket_of", "hash_of"]

#: The bucket space of a percentage rollout: weights are hundredths of a percent.
PERCENT_TOTAL = 10_000

_hash = mmh3.hash


def hash_of(salt: str, value: str) -> int:
    """Return the unsigned 32-bit murmur3 hash of ``salt + value`` (UTF-8, seed 0)."""
    return _hash(salt + value, 0, False)


def bucket_of(salt: str, value: str, total: int = PERCENT_TOTAL) -> int:
    """Return the bucket in ``range(total)`` that ``value`` falls in under ``salt``.

    Integer-only: the hash scaled by ``total`` and shifted down 32 bits, so the
    result is exact and identical in every language with 64-bit integers.
    """
    return (_hash(salt + value, 0, False) * total) >> 32
