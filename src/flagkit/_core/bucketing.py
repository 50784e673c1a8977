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

from flagkit._core.rollouts import PERCENT_TOTAL

__all__ = [
    "MAX_TOTAL",
    "bucket_of",
    "bucket_or_none",
    "bucketing_key",
    "encodes_as_utf8",
    "hash_bound",
    "hash_bytes",
    "hash_of",
    "string_key",
]

#: The largest bucket space: ``hash * total`` must fit in 64 bits (docs/bucketing.md).
MAX_TOTAL = 2**32

#: murmur3 x86 32-bit, unsigned, seed 0; it takes bytes only (a str is a TypeError).
_murmur3 = mmh3.mmh3_32_uintdigest


def encodes_as_utf8(text: str) -> bool:
    """Return True when ``text`` has a UTF-8 encoding (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_MIN_KEY = -(2**63)
_MAX_KEY = 2**64


def bucketing_key(value: object) -> str | None:
    """Return the string a context value buckets by, or None when it cannot.

    Non-empty strings (and str subclasses such as StrEnum, by their value)
    that UTF-8 can encode, and integers within 64 bits (as decimal); nothing
    else: the empty string (flagd treats an empty targeting key as missing),
    booleans, floats, huge integers and lone surrogates have no defined key.
    The type is read with ``type()`` and the value through the base class's
    own methods, so a subclass cannot lie about either; the result is an
    exact ``str``.
    """
    kind = type(value)
    if issubclass(kind, str):
        return string_key(value)
    if issubclass(kind, int) and not issubclass(kind, bool):
        number = int.__index__(value)  # type: ignore[arg-type]
        # Comparisons, not ``in range(...)``: an int subclass would make
        # range's membership test a linear scan.
        return str(number) if _MIN_KEY <= number < _MAX_KEY else None
    return None


def string_key(value: object) -> str | None:
    """Return a non-empty string (or str subclass) context value as an exact ``str``, else None.

    flagd's ``fractional`` buckets by strings only, and counts an empty
    targeting key as missing. A string UTF-8 cannot encode (a lone
    surrogate) has no key either.
    """
    if not issubclass(type(value), str):
        return None
    text = str.__str__(value)
    return text if text and (text.isascii() or encodes_as_utf8(text)) else None


def hash_of(salt: str, value: str) -> int:
    """Return the unsigned 32-bit murmur3 hash of ``salt + value`` (UTF-8, seed 0).

    Raises ValueError for text UTF-8 cannot encode (a lone surrogate), which
    has no defined hash, and TypeError for anything but strings. mmh3 only
    ever gets the bytes encoded here, from the strings' own values
    (``str.__str__``: no subclass can interfere), and its ``uintdigest``
    refuses anything that is not bytes-like.
    """
    try:
        data = (str.__str__(salt) + str.__str__(value)).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"cannot hash text with no UTF-8 encoding: {exc.reason}") from exc
    return _murmur3(data)


def hash_bytes(data: bytes) -> int:
    """Return the unsigned 32-bit murmur3 hash of ``data`` (seed 0)."""
    return _murmur3(bytes(data))


def bucket_of(salt: str, value: str, total: int = PERCENT_TOTAL) -> int:
    """Return the bucket in ``range(total)`` that ``value`` falls in under ``salt``.

    Integer-only: the hash scaled by ``total`` and shifted down 32 bits, so the
    result is exact and identical in every language with 64-bit integers.
    Raises TypeError unless ``salt`` and ``value`` are strings and ``total`` an
    integer, and ValueError for text UTF-8 cannot encode or a ``total``
    outside ``1..2**32``. Subclasses are read by their value (``str.__str__``,
    ``int.__index__``): none of their own methods runs.
    """
    if not issubclass(type(total), int) or issubclass(type(total), bool):
        raise TypeError(f"total must be an integer, not {type(total).__name__}")
    total = int.__index__(total)
    if not 1 <= total <= MAX_TOTAL:
        raise ValueError(f"total must be between 1 and 2**32, not {total}")
    return (hash_of(salt, value) * total) >> 32


def bucket_or_none(salt: str, value: str, total: int) -> int | None:
    """Return ``bucket_of(salt, value, total)``, or None when the text has no UTF-8 encoding.

    ``total`` must be a valid bucket space (the callers' own, checked at
    compile time); an unencodable salt or value is a missing bucketing key.
    """
    try:
        data = (str.__str__(salt) + str.__str__(value)).encode("utf-8")
    except UnicodeEncodeError:
        return None
    return (_murmur3(data) * total) >> 32


def hash_bound(bound: int, total: int) -> int:
    """Return the smallest hash whose bucket (out of ``total``) is ``bound`` or more.

    ``hash < hash_bound(bound, total)`` exactly when
    ``(hash * total) >> 32 < bound``: the bucket is the floor of
    ``hash * total / 2**32``, which is below the integer ``bound`` exactly
    when ``hash < bound * 2**32 / total``, that is, below its ceiling. A
    rollout that needs no bucket compares the hash itself: the same ranges,
    two integer operations fewer per call.
    """
    return -(-(bound << 32) // total)
