"""Semantic versions (semver.org 2.0.0) for version-comparison conditions.

Partial versions are accepted and padded with zeros (``1.2`` is ``1.2.0``),
and a leading ``v`` is ignored, because version attributes in the wild are
written that way. Build metadata is ignored for precedence, as the spec says.
"""

from __future__ import annotations

import re
from functools import total_ordering

__all__ = ["Version", "parse_version"]

_VERSION = re.compile(
    r"^[vV]?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$",
    # ASCII digits only: without it, \d also matches other scripts' digits
    # ("1\u0662.0.0" would read as 12.0.0, since int() accepts them too).
    re.ASCII,
)


@total_ordering
class Version:
    """A parsed version, ordered by semver precedence."""

    __slots__ = ("_key", "major", "minor", "patch", "prerelease")

    def __init__(
        self, major: int, minor: int, patch: int, prerelease: tuple[str | int, ...] = ()
    ) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        # A release sorts after all of its pre-releases; numeric identifiers
        # sort before alphanumeric ones (semver 2.0.0, item 11).
        pre_key = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in prerelease)
        self._key = (major, minor, patch, 0 if prerelease else 1, pre_key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key == other._key

    def __lt__(self, other: Version) -> bool:
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        pre = "-" + ".".join(str(p) for p in self.prerelease) if self.prerelease else ""
        return f"Version('{self.major}.{self.minor}.{self.patch}{pre}')"


def parse_version(text: str) -> Version | None:
    """Return the version ``text`` spells, or None when it is not a version."""
    match = _VERSION.fullmatch(text) if len(text) <= 256 else None
    if match is None:
        return None
    major, minor, patch, pre, _build = match.groups()
    prerelease: tuple[str | int, ...] = ()
    if pre:
        prerelease = tuple(int(p) if p.isdigit() else p for p in pre.split("."))
    return Version(int(major), int(minor or 0), int(patch or 0), prerelease)
