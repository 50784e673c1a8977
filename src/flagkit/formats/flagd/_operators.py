"""flagd's custom JSON Logic operators (https://flagd.dev/reference/custom-operations/).

``starts_with``, ``ends_with``, ``sem_ver`` and the bucket arithmetic of
``fractional``; the compiler (``_jsonlogic``) wires them into its operator
table. Bucketing uses the core's formula and rollout arithmetic, so a
``fractional`` rule and a native rollout with the same salt agree.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias

from flagkit._core import rollouts
from flagkit._core.bucketing import bucket_or_none, string_key
from flagkit._core.semver import Version, parse_version
from flagkit._core.values import plain
from flagkit.formats.flagd._jsvalues import is_array, is_number

__all__ = [
    "MAX_FRACTIONAL_WEIGHT",
    "Bucket",
    "ends_with",
    "parse_buckets",
    "pick_bucket",
    "sem_ver",
    "starts_with",
]

#: flagd caps the sum of ``fractional`` weights at MaxInt32 so that the 64-bit
#: product ``hash * total`` fits a signed long in every provider language.
MAX_FRACTIONAL_WEIGHT: Final = 2_147_483_647


def _string_test(test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool | None]:
    def operator(subject: Any, fragment: Any) -> bool | None:
        # flagd answers null (a falsy non-match) when either side is not a string.
        if isinstance(subject, str) and isinstance(fragment, str):
            return test(subject, fragment)
        return None

    return operator


starts_with = _string_test(str.startswith)
ends_with = _string_test(str.endswith)


def _parse_semver(text: Any) -> Version | None:
    """Parse a version the core's way: ``[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]``.

    Only an exact string reaches the cache: a str subclass's own ``__hash__``
    and ``__eq__`` could otherwise pick another string's entry.
    """
    text = plain(text)
    return _parse_version_cached(text) if type(text) is str else None


#: Version strings are few per application (one per release), so a small
#: bounded cache spares re-parsing them on every evaluation.
_parse_version_cached = functools.lru_cache(maxsize=512)(parse_version)


def sem_ver(left: Any, operator: Any, right: Any) -> bool | None:
    """Compare two semantic versions; null for anything unparsable."""
    a, b = _parse_semver(left), _parse_semver(right)
    if a is None or b is None:
        return None
    if operator == "^":
        return a.major == b.major
    if operator == "~":
        return (a.major, a.minor) == (b.major, b.minor)
    comparison = _SEMVER_COMPARISONS.get(operator) if isinstance(operator, str) else None
    if comparison is None:
        return None
    return comparison(a, b)


_SEMVER_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

Bucket: TypeAlias = tuple[Any, int]


def parse_buckets(specs: Sequence[Any]) -> tuple[tuple[Bucket, ...], int] | None:
    """Parse ``[variant, weight?]`` pairs; None when any is malformed (flagd: null).

    Weights are whole numbers, default to 1, and negative ones clamp to 0 (a
    computed ramp can go below zero); a total of 0 or above MaxInt32 is null.
    """
    buckets: list[Bucket] = []
    total = 0
    for spec in specs:
        if not is_array(spec) or not 1 <= len(spec) <= 2:
            return None
        variant = spec[0]
        if not (variant is None or isinstance(variant, (str, bool)) or is_number(variant)):
            return None
        weight: Any = spec[1] if len(spec) == 2 else 1
        if weight is None:
            weight = 1
        if not is_number(weight) or not math.isfinite(weight) or weight != int(weight):
            return None
        weight = max(0, int(weight))
        if weight > MAX_FRACTIONAL_WEIGHT:
            return None
        total += weight
        buckets.append((variant, weight))
    if not buckets or total == 0 or total > MAX_FRACTIONAL_WEIGHT:
        return None
    return tuple(buckets), total


def pick_bucket(salt: str, value: Any, buckets: tuple[Bucket, ...], total: int) -> Any:
    """Return the variant of the bucket ``value`` falls in (fractional v2), or None.

    ``(murmur3_32(salt + value) * total) >> 32``, then the first bucket whose
    running weight sum exceeds it: the core's ``bucket_of`` and rollout
    bounds. A value with no bucketing key (not a string, or text UTF-8
    cannot encode, in the value or the salt) is null, as flagd answers for
    a missing bucketing value.
    """
    key = string_key(value)
    bucket = None if key is None else bucket_or_none(salt, key, total)
    if bucket is None:
        return None
    return rollouts.pick(rollouts.cumulative(buckets), bucket)
