"""flagd's own JSON Logic operators (https://flagd.dev/reference/custom-operations/).

``starts_with``, ``ends_with``, ``sem_ver`` and ``fractional``, as Go flagd
implements them (``core/pkg/evaluator``: ``string_comparison.go``,
``semver.go``, ``fractional.go``). Each takes its arguments already evaluated
(Go's ``AddOperator`` wraps every custom operator in ``parseValues``) and the
data, and answers null for anything it cannot use: a wrong number of
arguments, a value of the wrong type, an unknown ``sem_ver`` operator, a
malformed bucket. A null result makes the flag serve its default variant.

``fractional`` buckets with v2 (flagd's formula, and flagkit's own:
``murmur3(flagKey + targetingKey)`` or ``murmur3(bucketing value)``) or v3
(flagd-core 2.0's: ``murmur3`` of the canonical CBOR of ``[flagKey,
targetingKey]`` or of the bucketing value); see ``docs/flagd.md``.

Values are read by their real type and value, as ``_govalues`` reads them:
a subclass answers as the value it is made of, and only bytes flagkit
encoded itself are hashed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from flagkit._core import rollouts
from flagkit._core.bucketing import hash_bytes, hash_of, string_key
from flagkit._core.values import PLAIN_TYPES, plain
from flagkit._types import FlagdHashing
from flagkit.formats.flagd._cbor import canonical_cbor
from flagkit.formats.flagd._gosemver import GoVersion, compare, parse
from flagkit.formats.flagd._govalues import format_v, is_array, is_number

__all__ = [
    "MAX_FRACTIONAL_WEIGHT",
    "Bucket",
    "FlagdHashing",
    "ends_with",
    "fractional",
    "parse_buckets",
    "pick_bucket",
    "sem_ver",
    "starts_with",
]

#: flagd caps the sum of ``fractional`` weights at MaxInt32 so that the 64-bit
#: product ``hash * total`` fits a signed long in every provider language.
MAX_FRACTIONAL_WEIGHT: Final = 2_147_483_647


def _two_strings(parsed: Any) -> tuple[str, str] | None:
    if not is_array(parsed) or len(parsed) != 2:
        return None
    subject, fragment = parsed
    if issubclass(type(subject), str) and issubclass(type(fragment), str):
        return str.__str__(subject), str.__str__(fragment)
    return None


def starts_with(parsed: Any, _data: Any = None) -> bool | None:
    """Return whether text starts with text; null unless given exactly two strings."""
    pair = _two_strings(parsed)
    return None if pair is None else pair[0].startswith(pair[1])


def ends_with(parsed: Any, _data: Any = None) -> bool | None:
    """Return whether text ends with text; null unless given exactly two strings."""
    pair = _two_strings(parsed)
    return None if pair is None else pair[0].endswith(pair[1])


def _version(value: Any) -> GoVersion | None:
    # flagd's normalizeVersion: any value printed with %v, "V" read as "v", "v" added.
    text = format_v(value)
    if not text.startswith("v"):
        text = "v" + text.removeprefix("V")
    return parse(text)


_SEMVER: Final = {
    "=": lambda order: order == 0,
    "!=": lambda order: order != 0,
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}


def sem_ver(parsed: Any, _data: Any = None) -> bool | None:
    """Compare two versions with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``^`` or ``~``.

    Numbers are versions too (``2`` is ``v2``), as flagd prints any value.
    Null for a wrong argument count, an invalid version or operator.
    """
    if not is_array(parsed) or len(parsed) != 3:
        return None
    left, operator, right = parsed
    a = _version(left)
    operator = plain(operator)  # its value: a subclass's own __eq__ never runs
    if a is None or type(operator) is not str:
        return None
    b = _version(right)
    if b is None:
        return None
    if operator == "^":
        return a.major == b.major
    if operator == "~":
        return (a.major, a.minor) == (b.major, b.minor)
    test = _SEMVER.get(operator)
    return None if test is None else test(compare(a, b))


Bucket: TypeAlias = tuple[Any, int]


def parse_buckets(specs: Any) -> tuple[tuple[Bucket, ...], int] | None:
    """Parse ``[variant, weight?]`` buckets as Go flagd does; None when any is malformed.

    A bucket is an array of one or more items: a variant (text, boolean,
    number or null) and a whole-number weight (null or absent: 1; negative:
    0; more than MaxInt32: malformed). A total above MaxInt32 is malformed; a
    total of 0 gives null when picking.
    """
    buckets: list[Bucket] = []
    total = 0
    # Read by value (``values.plain``), cheaply: a rule's own buckets are exact lists.
    for given in specs if type(specs) is list else plain(specs):
        if type(given) is list:
            spec = given
        elif is_array(given):
            spec = plain(given)
        else:
            return None
        if not spec:
            return None
        variant = spec[0]
        if type(variant) not in PLAIN_TYPES:
            variant = plain(variant)
        if not (variant is None or type(variant) in (str, bool) or is_number(variant)):
            return None
        weight: Any = spec[1] if len(spec) >= 2 else None
        if type(weight) not in PLAIN_TYPES:
            weight = plain(weight)
        if weight is None:
            weight = 1
        elif not is_number(weight) or not math.isfinite(weight) or weight != int(weight):
            return None
        weight = int(weight)
        if weight > MAX_FRACTIONAL_WEIGHT:
            return None
        weight = max(weight, 0)
        total += weight
        buckets.append((variant, weight))
    if total > MAX_FRACTIONAL_WEIGHT:
        return None
    return tuple(buckets), total


def pick_bucket(hashed: int, buckets: tuple[Bucket, ...], total: int) -> Any:
    """Return the variant of the bucket a 32-bit hash falls in; null for a total of 0."""
    if total == 0:
        return None
    return rollouts.pick(rollouts.cumulative(buckets), (hashed * total) >> 32)


def _hash_v2(salt: str, text: str) -> int | None:
    try:
        return hash_of(salt, text)  # salt + text, each read by its value
    except ValueError:  # text UTF-8 cannot encode: no bucketing value
        return None


def _hash_v3(value: Any) -> int | None:
    try:
        return hash_bytes(canonical_cbor(value))
    except (ValueError, RecursionError):
        return None


def fractional(parsed: Any, data: Any, *, flag_key: str, hashing: FlagdHashing = "v2") -> Any:
    """Return the variant of the bucket the bucketing value falls in, or null.

    v2 (Go flagd): a first argument that is text is the bucketing value,
    hashed as it is; otherwise (null is dropped) the value is ``flagKey +
    targetingKey``, and a missing, empty or non-text targeting key gives
    null. v3 (flagd-core 2.0): a first argument that is not an array is the
    bucketing value, whatever its type (null gives null), hashed as CBOR;
    otherwise the value is ``[flagKey, targetingKey]``.
    """
    if not is_array(parsed) or not parsed or not isinstance(data, Mapping):
        return None
    first = parsed[0]
    specs: Any = parsed[1:]
    if hashing == "v3":
        if not is_array(first):
            hashed = None if first is None else _hash_v3(first)
        else:
            specs = parsed
            key = _targeting_key(data)
            hashed = None if key is None else _hash_v3([flag_key, key])
    elif issubclass(type(first), str):
        hashed = _hash_v2("", first)
    else:
        if first is not None:
            specs = parsed
        key = _targeting_key(data)
        if key is None:
            return None
        hashed = _hash_v2(flag_key, key)
    if hashed is None:
        return None
    found = parse_buckets(specs)
    return None if found is None else pick_bucket(hashed, *found)


def _targeting_key(data: Mapping[str, Any]) -> str | None:
    """Return the targeting key bucketing reads: a non-empty string (empty counts as missing)."""
    return string_key(data.get("targetingKey"))
