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

__all__ = ["PERCENT_TOTAL", "bucket_of", "bucketing_key", "encodes_as_utf8", "hash_of"]

#: The bucket space of a percentage rollout: weights are hundredths of a percent.
PERCENT_TOTAL = 10_000

_hash = mmh3.hash


def encodes_as_utf8(text: str) -> bool:
    """Return True when ``text`` has a UTF-8 encoding (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_KEY_RANGE = range(-(2**63), 2**64)


def bucketing_key(value: object) -> str | None:
    """Return the string a context value buckets by, or None when it cannot.

    Strings (and str subclasses such as StrEnum, by their value) that UTF-8
    can encode, and integers within 64 bits (as decimal); nothing else:
    booleans, floats, huge integers and lone surrogates have no defined key.
    """
    if isinstance(value, str):
        text = str.__str__(value)
        return text if text.isascii() or encodes_as_utf8(text) else None
    if isinstance(value, int) and not isinstance(value, bool) and value in _KEY_RANGE:
        return str(int(value))
    return None


def hash_of(salt: str, value: str) -> int:
    """Return the unsigned 32-bit murmur3 hash of ``salt + value`` (UTF-8, seed 0).

    Raises ValueError for text UTF-8 cannot encode (a lone surrogate), which
    has no defined hash (and which mmh3 itself would crash on).
    """
    try:
        data = (salt + value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"cannot hash text with no UTF-8 encoding: {exc.reason}") from exc
    return _hash(data, 0, False)


def bucket_of(salt: str, value: str, total: int = PERCENT_TOTAL) -> int:
    """Return the bucket in ``range(total)`` that ``value`` falls in under ``salt``.

    Integer-only: the hash scaled by ``total`` and shifted down 32 bits, so the
    result is exact and identical in every language with 64-bit integers.
    """
    return (hash_of(salt, value) * total) >> 32
