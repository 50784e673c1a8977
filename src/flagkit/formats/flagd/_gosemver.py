"""Semantic versions as flagd's ``sem_ver`` reads them: Go's ``golang.org/x/mod/semver``.

A version is ``vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]``: the short forms
``v1`` and ``v1.2`` mean ``v1.0.0`` and ``v1.2.0`` but take no pre-release or
build; numbers have no leading zeros; identifiers are ASCII letters, digits
and hyphens. Comparison is Semantic Versioning 2.0's (pre-releases first,
numeric identifiers by value, build metadata ignored).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

__all__ = ["GoVersion", "compare", "parse"]

_DIGITS = frozenset("0123456789")
_IDENT = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")


class GoVersion(NamedTuple):
    """A parsed version: numbers as digit strings, the pre-release with its ``-``."""

    major: str
    minor: str
    patch: str
    prerelease: str


def _number(text: str) -> tuple[str, str] | None:
    end = 0
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    if end == 0 or (text[0] == "0" and end != 1):
        return None
    return text[:end], text[end:]


def _bad_number(part: str) -> bool:
    return len(part) > 1 and part[0] == "0" and all(c in _DIGITS for c in part)


def _identifiers(text: str, *, numbers: bool) -> bool:
    parts = text.split(".")
    return all(
        part and all(c in _IDENT for c in part) and not (numbers and _bad_number(part))
        for part in parts
    )


@functools.lru_cache(maxsize=512)
def parse(text: str) -> GoVersion | None:
    """Return the version ``text`` spells (``v`` first), or None when Go finds it invalid."""
    if not text.startswith("v"):
        return None
    found = _number(text[1:])
    if found is None:
        return None
    major, rest = found
    if not rest:
        return GoVersion(major, "0", "0", "")
    if rest[0] != ".":
        return None
    found = _number(rest[1:])
    if found is None:
        return None
    minor, rest = found
    if not rest:
        return GoVersion(major, minor, "0", "")
    if rest[0] != ".":
        return None
    found = _number(rest[1:])
    if found is None:
        return None
    patch, rest = found
    prerelease = ""
    if rest.startswith("-"):
        prerelease, _, build = rest.partition("+")
        if not _identifiers(prerelease[1:], numbers=True):
            return None
        rest = "+" + build if "+" in rest else ""
    if rest.startswith("+"):
        if not _identifiers(rest[1:], numbers=False):
            return None
        rest = ""
    return GoVersion(major, minor, patch, prerelease) if not rest else None


def _compare_int(x: str, y: str) -> int:
    if x == y:
        return 0
    if len(x) != len(y):
        return -1 if len(x) < len(y) else 1
    return -1 if x < y else 1


def _compare_prerelease(x: str, y: str) -> int:
    if x == y:
        return 0
    if not x:
        return 1
    if not y:
        return -1
    xs, ys = x[1:].split("."), y[1:].split(".")
    for dx, dy in zip(xs, ys, strict=False):
        if dx == dy:
            continue
        nx, ny = dx.isdigit() and dx.isascii(), dy.isdigit() and dy.isascii()
        if nx != ny:
            return -1 if nx else 1
        if nx and len(dx) != len(dy):
            return -1 if len(dx) < len(dy) else 1
        return -1 if dx < dy else 1
    return -1 if len(xs) < len(ys) else (1 if len(xs) > len(ys) else 0)


def compare(v: GoVersion, w: GoVersion) -> int:
    """Return -1, 0 or 1 as ``v`` sorts before, with or after ``w`` (Go ``semver.Compare``)."""
    for x, y in ((v.major, w.major), (v.minor, w.minor), (v.patch, w.patch)):
        order = _compare_int(x, y)
        if order:
            return order
    return _compare_prerelease(v.prerelease, w.prerelease)
