"""Helpers for reporting located problems in foreign flag formats.

Problems and the error carrying them are the core's
(:class:`flagkit._errors.Problem`, :class:`flagkit._errors.DefinitionError`);
this module only builds paths and collects problems into one error, so that a
validator reports every mistake in one round trip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeAlias

from flagkit._errors import DefinitionError, Problem, dotted

__all__ = ["Path", "definition_error", "dotted"]

#: A field path inside a document, e.g. ``("flags", "banner", "targeting", "if", 0)``.
Path: TypeAlias = tuple[str | int, ...]


def definition_error(problems: Iterable[Problem], *, source: str | None = None) -> DefinitionError:
    """Return one :class:`DefinitionError` with every distinct problem, in path order."""
    unique = {dataclasses.replace(p, source=p.source or source) for p in problems}
    ordered = sorted(unique, key=lambda p: (dotted(p.path), p.message))
    return DefinitionError(ordered, source)
