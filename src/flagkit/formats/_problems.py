"""Located definition problems, shared by every foreign-format validator.

A validator never stops at the first mistake: it collects every
:class:`Problem` it finds and raises one :class:`InvalidDefinitionError`
carrying all of them, so an author fixes a file in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["InvalidDefinitionError", "Problem", "join_location"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One mistake in a definition document, located by a dotted field path."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def join_location(*parts: object) -> str:
    """Join path parts into ``a.b[0].c`` form (integers become indexes)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


class InvalidDefinitionError(ValueError):
    """Raised when a definition document has one or more problems.

    Carries every problem found, sorted by location, and the source (a file
    name or URL) when the caller knows it.
    """

    def __init__(self, problems: Iterable[Problem], *, source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        self.source = source
        where = f"{source}: " if source else ""
        lines = "\n".join(f"  {where}{problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid flag definitions ({count} {noun}):\n{lines}")
