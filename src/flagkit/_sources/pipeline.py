"""From a document's bytes or data to a live snapshot, in one pass.

Sources and the client call these: parse, validate and compile happen with
the garbage collector paused once, around the whole pass, and the pydantic
document is dropped before it resumes, so the collector never has to walk
the definitions (see ``gc``).

pydantic (the models, the loader) and the compiler are imported on the
first load, not with this module: ``import flagkit`` stays cheap, and a
process pays for them only when it reads a document.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import TYPE_CHECKING, Any

from flagkit._core.snapshot import Snapshot
from flagkit._definitions.parse import parse_bytes, read_bytes, syntax_of
from flagkit._errors import DefinitionError, SourceError
from flagkit._sources.gc import gc_paused
from flagkit._types import (
    DOCUMENT_FORMATS,
    FLAGD_HASHINGS,
    Clock,
    DocumentFormat,
    FlagdHashing,
    PathLike,
    Syntax,
)

if TYPE_CHECKING:
    from flagkit._definitions.model import Document

__all__ = [
    "check_document_format",
    "check_flagd_hashing",
    "snapshot_from_bytes",
    "snapshot_from_data",
    "snapshot_from_file",
]


def check_flagd_hashing(hashing: str) -> FlagdHashing:
    """Return ``hashing`` if it names a fractional hashing; raise SourceError otherwise."""
    if hashing not in FLAGD_HASHINGS:
        raise SourceError(
            f"unknown flagd hashing {hashing!r}; expected one of {', '.join(FLAGD_HASHINGS)}"
        )
    return hashing


def check_document_format(format: str) -> DocumentFormat:
    """Return ``format`` if it names a document format; raise SourceError otherwise."""
    if format not in DOCUMENT_FORMATS:
        raise SourceError(
            f"unknown document format {format!r}; expected one of {', '.join(DOCUMENT_FORMATS)}"
        )
    return format


def snapshot_from_bytes(
    data: bytes | str,
    syntax: Syntax,
    *,
    format: DocumentFormat = "native",
    origin: str = "<memory>",
    clock: Clock | None = None,
    keep_definitions: bool = False,
    isolate: bool = True,
    flagd_hashing: FlagdHashing = "v2",
) -> Snapshot:
    """Parse, validate and compile a document's text; raise DefinitionError on problems.

    The one bytes-to-snapshot step every source shares: ``syntax`` is how
    the text is written (json, toml, yaml), ``format`` what it means
    (native, flagd, or auto to detect it from the parsed content).
    ``isolate`` refuses a broken flag on its own rather than the whole
    document (``isolate``); ``flagkit validate`` turns it off.
    ``flagd_hashing`` is how a flagd document's ``fractional`` hashes.
    """
    check_document_format(format)
    revision = hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]
    with gc_paused():
        if format == "native":
            from flagkit._definitions.load import load_bytes  # pydantic: on first load

            # JSON goes straight to pydantic's Rust parser (see load_bytes).
            try:
                document = load_bytes(data, syntax, source=origin)
            except DefinitionError as exc:
                if not isolate:
                    raise
                from flagkit._sources.isolate import isolated_native

                return isolated_native(
                    parse_bytes(data, syntax, source=origin),
                    exc,
                    origin=origin,
                    revision=revision,
                    clock=clock or time.time,
                    keep_definitions=keep_definitions,
                )
            return _compiled(
                document,
                origin=origin,
                revision=revision,
                clock=clock,
                keep_definitions=keep_definitions,
            )
        raw = parse_bytes(data, syntax, source=origin)
    return _snapshot_from_raw(
        raw,
        format=format,
        origin=origin,
        revision=revision,
        clock=clock,
        keep_definitions=keep_definitions,
        isolate=isolate,
        flagd_hashing=flagd_hashing,
    )


def _snapshot_from_raw(
    raw: Any,
    *,
    format: DocumentFormat,
    origin: str,
    revision: str,
    clock: Clock | None,
    keep_definitions: bool,
    isolate: bool,
    flagd_hashing: FlagdHashing,
) -> Snapshot:
    with gc_paused():
        if format in ("unleash", "auto"):
            # Imported here: a foreign compiler is only loaded by those who use it.
            from flagkit.formats.unleash._snapshot import looks_like_unleash, snapshot_from_unleash

            if format == "unleash" or looks_like_unleash(raw):
                return snapshot_from_unleash(
                    raw,
                    origin=origin,
                    revision=revision,
                    clock=clock,
                    keep_definitions=keep_definitions,
                )
        if format != "native":
            from flagkit.formats.flagd._snapshot import looks_like_flagd, snapshot_from_flagd

        if format == "flagd" or (format == "auto" and looks_like_flagd(raw)):
            return snapshot_from_flagd(
                raw,
                origin=origin,
                revision=revision,
                clock=clock,
                keep_definitions=keep_definitions,
                isolate=isolate,
                hashing=check_flagd_hashing(flagd_hashing),
            )
        from flagkit._definitions.load import validate_document  # pydantic: on first load

        try:
            document = validate_document(raw, source=None if origin == "<memory>" else origin)
        except DefinitionError as exc:
            if not isolate:
                raise
            from flagkit._sources.isolate import isolated_native

            return isolated_native(
                raw,
                exc,
                origin=origin,
                revision=revision,
                clock=clock or time.time,
                keep_definitions=keep_definitions,
            )

        return _compiled(
            document,
            origin=origin,
            revision=revision,
            clock=clock,
            keep_definitions=keep_definitions,
        )


def _compiled(
    document: Document, *, origin: str, revision: str, clock: Clock | None, keep_definitions: bool
) -> Snapshot:
    # Called inside gc_paused() with the document as an argument only, so the
    # pydantic document is dropped when this returns, before the GC resumes.
    from flagkit._core.compile import compile_document

    return compile_document(
        document,
        origin=origin,
        revision=revision,
        clock=clock or time.time,
        keep_definitions=keep_definitions,
    )


def snapshot_from_file(
    path: PathLike,
    syntax: Syntax | None = None,
    *,
    format: DocumentFormat = "native",
    clock: Clock | None = None,
    keep_definitions: bool = False,
    isolate: bool = True,
    flagd_hashing: FlagdHashing = "v2",
) -> Snapshot:
    """Read, validate and compile a flag file."""
    source = os.fspath(path)
    return snapshot_from_bytes(
        read_bytes(source),
        syntax or syntax_of(source),
        format=format,
        origin=source,
        clock=clock,
        keep_definitions=keep_definitions,
        isolate=isolate,
        flagd_hashing=flagd_hashing,
    )


def snapshot_from_data(
    data: Any,
    *,
    format: DocumentFormat = "native",
    origin: str = "<memory>",
    clock: Clock | None = None,
    keep_definitions: bool = False,
    isolate: bool = True,
    flagd_hashing: FlagdHashing = "v2",
) -> Snapshot:
    """Validate and compile a document already parsed into Python data."""
    return _snapshot_from_raw(
        data,
        format=check_document_format(format),
        origin=origin,
        revision="",
        clock=clock,
        keep_definitions=keep_definitions,
        isolate=isolate,
        flagd_hashing=flagd_hashing,
    )
