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
* ``MAX_DEPTH``: nesting of lists and mappings (the document itself is 1).
* ``MAX_OPERANDS``: operands of one condition (or members of a segment's
  include or exclude list).

YAML is checked while it is composed (``yaml_loader``); JSON and TOML after
parsing (``check_parsed``), where a JSON text too small to exceed a cap
(``json_nodes_at_most``) is not walked at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    "check_document_counts",
    "check_parsed",
    "json_nodes_at_most",
    "over_limit",
]

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_FLAGS = 200_000
MAX_SEGMENTS = 10_000
MAX_NODES = 5_000_000
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


def check_document_counts(raw: Any, *, source: str | None) -> None:
    """Raise DefinitionError when parsed data has too many flags or segments (else nothing)."""
    if isinstance(raw, Mapping):
        flags, segments = raw.get("flags"), raw.get("segments")
        check_counts(
            len(flags) if isinstance(flags, Mapping) else 0,
            len(segments) if isinstance(segments, Mapping) else 0,
            source=source,
        )


def json_nodes_at_most(text: bytes | str) -> int:
    """Return an upper bound of the values in a JSON text, from its punctuation alone.

    Every value but the first follows a ``[``, a ``,`` or a ``:``, and every
    key a ``{`` or a ``,``; counting those characters (inside strings too)
    over-counts, never under-counts. A few C-speed scans instead of a walk.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return 1 + sum(raw.count(mark) for mark in (b"[", b",", b":", b"{"))


def check_parsed(data: Any, *, source: str | None) -> None:
    """Raise DefinitionError when parsed data exceeds the node or depth caps.

    Iterative (a deep document cannot exhaust the interpreter's stack), and
    each shared object is counted every time it is reached, as expanded.
    """
    nodes = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise over_limit("values", MAX_NODES, source)
        if isinstance(node, dict):
            children: Any = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise over_limit("levels of nesting", MAX_DEPTH, source)
        stack.extend((child, depth + 1) for child in children)
