"""The caps on a flag document: what a hostile or runaway document may cost.

A document over any cap is refused with a clear error naming the file, and
a source keeps its last good flags (DESIGN 4 and 9). ``docs/format.md``
states these numbers; changing one is a user-visible change.

* ``MAX_DOCUMENT_BYTES``: the text of a document (file, HTTP body, cache).
* ``MAX_FLAGS`` / ``MAX_SEGMENTS``: entries of one document. 200,000 flags
  load in about a second and hold about 100 MB while loading; a document
  just under the byte cap could otherwise hold 470,000 (issue 17).
* ``MAX_NODES``: values in the parsed document (every scalar, list and
  mapping, keys included), counted *as expanded*: a YAML alias counts as
  the whole tree it repeats, so alias bombs are refused while the YAML is
  being composed, before anything is built. This bounds the memory and
  time of everything that walks the data.
* ``MAX_ALIASES``: YAML aliases in one document.
* ``MAX_DEPTH``: nesting of lists and mappings.
* ``MAX_OPERANDS``: operands of one condition (or members of a segment's
  include or exclude list).
"""

from __future__ import annotations

from flagkit._errors import DefinitionError, Problem

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_FLAGS",
    "MAX_NODES",
    "MAX_OPERANDS",
    "MAX_SEGMENTS",
    "check_counts",
    "over_limit",
]

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_FLAGS = 200_000
MAX_SEGMENTS = 10_000
MAX_NODES = 10_000_000
MAX_ALIASES = 10_000
MAX_DEPTH = 64
MAX_OPERANDS = 100_000


def over_limit(what: str, limit: int, source: str | None) -> DefinitionError:
    """Return the error for a document that exceeds one of the caps."""
    return DefinitionError(
        [Problem((), f"more than {limit:,} {what}; refused (see docs/format.md, Limits)", source)],
        source,
    )


def check_counts(flags: int, segments: int, *, source: str | None) -> None:
    """Raise DefinitionError when a document has too many flags or segments."""
    if flags > MAX_FLAGS:
        raise over_limit("flags", MAX_FLAGS, source)
    if segments > MAX_SEGMENTS:
        raise over_limit("segments", MAX_SEGMENTS, source)
