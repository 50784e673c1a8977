"""From a document's bytes or data to a live snapshot, in one pass.

Sources and the client call these: parse, validate and compile happen with
the garbage collector paused once, around the whole pass, and the pydantic
document is dropped before it resumes, so the collector never has to walk
the definitions (see ``_gc``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

from flagkit._compile import compile_document
from flagkit._gc import gc_paused
from flagkit._loader import Format, format_of, load_bytes, read_bytes, validate_document
from flagkit._snapshot import Snapshot

__all__ = ["Clock", "snapshot_from_bytes", "snapshot_from_data", "snapshot_from_file"]

Clock = Callable[[], float]


def snapshot_from_bytes(
    data: bytes | str,
    fmt: Format,
    *,
    origin: str = "<memory>",
    clock: Clock | None = None,
    keep_definitions: bool = False,
) -> Snapshot:
    """Parse, validate and compile a document's text; raise DefinitionError on problems."""
    revision = hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]
    with gc_paused():
        document = load_bytes(data, fmt, source=origin)
        snapshot = compile_document(
            document,
            origin=origin,
            revision=revision,
            clock=clock or time.time,
            keep_definitions=keep_definitions,
        )
        del document
    return snapshot


def snapshot_from_file(
    path: str | os.PathLike[str],
    fmt: Format | None = None,
    *,
    clock: Clock | None = None,
    keep_definitions: bool = False,
) -> Snapshot:
    """Read, validate and compile a flag file."""
    source = os.fspath(path)
    return snapshot_from_bytes(
        read_bytes(source),
        fmt or format_of(source),
        origin=source,
        clock=clock,
        keep_definitions=keep_definitions,
    )


def snapshot_from_data(
    data: Any,
    *,
    origin: str = "<memory>",
    clock: Clock | None = None,
    keep_definitions: bool = False,
) -> Snapshot:
    """Validate and compile a document already parsed into Python data."""
    with gc_paused():
        document = validate_document(data, source=None if origin == "<memory>" else origin)
        snapshot = compile_document(
            document, origin=origin, clock=clock or time.time, keep_definitions=keep_definitions
        )
        del document
    return snapshot
