"""The canonical CBOR encoding that fractional v3 hashes (flagd-core 2.0's "hardened hashing").

``openfeature-flagd-core`` 2.0 (the Python core of ``openfeature-provider-flagd``
0.6 and later) hashes ``cbor2.dumps(normalize_numbers(value), canonical=True)``
instead of the bucketing string itself. This is that encoding (RFC 8949),
for the JSON values a bucketing value can be, written out here rather than
taken from ``cbor2``: about fifty lines, no C extension on the evaluation
path, and nothing else of CBOR is needed. ``tests/data/flagd_v3_vectors.json``
pins it against the real core.

- integers: major types 0 and 1 with the shortest argument, bignum tags 2
  and 3 beyond 64 bits; whole floats within [-2**63, 2**64 - 1] are encoded as
  integers first (flagd-core's ``normalize_numbers``);
- other floats: the shortest of half, single and double precision that
  holds the value exactly; NaN and the infinities as half floats;
- text (UTF-8), booleans, null, arrays, and maps with their keys sorted by
  their encoding, shortest first (canonical CBOR).

A value with no encoding (text with a lone surrogate, a non-JSON object)
raises ``ValueError``; the bucketing value then counts as missing.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

from flagkit._core.values import plain

__all__ = ["canonical_cbor"]

_MAX_UINT64 = 2**64 - 1


def _head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | extra]) + argument.to_bytes(size, "big")
    raise ValueError("CBOR argument beyond 64 bits")  # pragma: no cover - callers check


def _integer(number: int) -> bytes:
    if 0 <= number <= _MAX_UINT64:
        return _head(0, number)
    if -_MAX_UINT64 - 1 <= number < 0:
        return _head(1, -1 - number)
    tag, magnitude = (2, number) if number > 0 else (3, -1 - number)
    payload = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
    return _head(6, tag) + _head(2, len(payload)) + payload


def _float(number: float) -> bytes:
    if math.isnan(number):
        return b"\xf9\x7e\x00"
    if math.isinf(number):
        return b"\xf9\x7c\x00" if number > 0 else b"\xf9\xfc\x00"
    encoded = struct.pack(">Bd", 0xFB, number)
    for layout, prefix in ((">Bf", 0xFA), (">Be", 0xF9)):
        try:
            shorter = struct.pack(layout, prefix, number)
        except OverflowError:
            break
        if struct.unpack(layout, shorter)[1] != number:
            break
        encoded = shorter
    return encoded


def canonical_cbor(value: Any) -> bytes:
    """Return the canonical CBOR of a JSON value, as flagd-core 2.0 encodes bucketing values.

    Values are read by their real type and value (``values.plain``): a
    subclass of a built-in encodes as the value it is made of.
    """
    value = plain(value)
    kind = type(value)
    if value is None:
        return b"\xf6"
    if kind is bool:
        return b"\xf5" if value else b"\xf4"
    if kind is int:
        return _integer(value)
    if kind is float:
        if value.is_integer() and -(2**63) <= value <= _MAX_UINT64:
            return _integer(int(value))
        return _float(value)
    if kind is str:
        data: bytes = value.encode("utf-8")  # a lone surrogate: UnicodeEncodeError
        return _head(3, len(data)) + data
    if kind is list or kind is tuple:
        return _head(4, len(value)) + b"".join(canonical_cbor(item) for item in value)
    if issubclass(kind, Mapping):
        entries = sorted(
            ((canonical_cbor(key), canonical_cbor(item)) for key, item in value.items()),
            key=lambda entry: (len(entry[0]), entry[0]),
        )
        return _head(5, len(entries)) + b"".join(key + item for key, item in entries)
    raise ValueError(f"no CBOR encoding for {type(value).__name__}")
