"""The exception tree.

::

    FlagkitError
    ├── DefinitionError      a flag document is invalid (every problem, located)
    │   └── RefusedFlagsError    a document loaded, but some of its flags were refused
    ├── SourceError          a source could not read or fetch a document
    └── EvaluationError      raised only by ``Details.raise_for_error()``

Evaluation itself never raises; these exist for loading, and for callers who
ask for exceptions explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DefinitionError",
    "EvaluationError",
    "FlagkitError",
    "Problem",
    "RefusedFlagsError",
    "SourceError",
    "describe",
    "dotted",
]


def describe(exc: BaseException) -> str:
    """Return ``Type: message`` for an exception, even one whose ``__str__`` raises."""
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:
        return f"{type(exc).__name__}: (unprintable)"


def dotted(path: Iterable[str | int]) -> str:
    """Spell a field path as ``rules[0].when[1].op`` (integers become indexes)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


class FlagkitError(Exception):
    """Root of every exception flagkit raises."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a flag document.

    ``path`` is the field path inside the document, e.g.
    ``("flags", "pricing-test", "default", "rollout", "weights")``.
    """

    path: tuple[str | int, ...]
    message: str
    source: str | None = None

    @property
    def flag(self) -> str | None:
        """Return the flag key the problem is in, if it is inside a flag."""
        if len(self.path) >= 2 and self.path[0] == "flags":
            return str(self.path[1])
        return None

    @property
    def field(self) -> str:
        """Return the dotted field path, e.g. ``rules[0].when[1].op``."""
        return dotted(self.path[2:] if self.flag is not None else self.path)

    def __str__(self) -> str:
        where = self.source or "<document>"
        if self.flag is not None and len(self.path) == 2:  # the flag itself
            return f"{where}: flag {self.flag!r}: {self.message}"
        if self.flag is not None:
            return f"{where}: flag {self.flag!r}: {self.field}: {self.message}"
        return f"{where}: {self.field}: {self.message}"


class DefinitionError(FlagkitError):
    """A flag document is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source or '<document>'}: {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class RefusedFlagsError(DefinitionError):
    """A document was loaded, but some of its flags were refused (each one is isolated).

    Every other flag is served. ``refused`` names the flags that resolve to
    the caller's default with ERROR/PARSE_ERROR; ``kept`` those of them that
    still serve their last good definition from an earlier load. ``problems``
    locates each problem, as for any ``DefinitionError``.
    """

    def __init__(
        self,
        problems: Iterable[Problem],
        source: str | None = None,
        *,
        refused: Iterable[str] = (),
        kept: Iterable[str] = (),
    ) -> None:
        super().__init__(problems, source)
        self.refused: tuple[str, ...] = tuple(sorted(refused))
        self.kept: tuple[str, ...] = tuple(sorted(kept))
        served = [key for key in self.refused if key not in set(self.kept)]
        parts = []
        if served:
            parts.append(f"refused (callers get their defaults): {', '.join(served)}")
        if self.kept:
            parts.append(f"refused, serving the last good definition: {', '.join(self.kept)}")
        if parts:
            self.args = (f"{self.args[0]}\n  flags {'; '.join(parts)}",)


class SourceError(FlagkitError):
    """A source could not read or fetch a flag document."""


class EvaluationError(FlagkitError):
    """An evaluation resolved with an error; raised by ``Details.raise_for_error()``."""

    def __init__(self, flag_key: str, error_code: str, message: str) -> None:
        self.flag_key = flag_key
        self.error_code = error_code
        super().__init__(f"flag {flag_key!r}: {error_code}: {message}")
