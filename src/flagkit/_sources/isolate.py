"""One bad flag never takes the good ones down: isolate it (DESIGN invariant 4).

The rule, the same for every format a client serves: a problem inside one
flag refuses that flag alone, which then resolves to the caller's default
with ERROR/PARSE_ERROR, and every other flag is served. A problem outside
every flag (the document's shape, a segment, flagd's flag-set metadata)
refuses the whole document, which keeps the last good snapshot.

flagd documents isolate in their own compiler (``formats.flagd``); this
module does it for native ones, only after strict validation failed, so a
valid document pays nothing. The refused flags are dropped and the rest
validated again until it holds (a flag whose prerequisite was refused is
refused in turn), then compiled, and the refused keys are added back as
flags that always resolve to PARSE_ERROR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flagkit._core.codegen import refused_flag
from flagkit._core.compile import compile_document
from flagkit._core.snapshot import Snapshot
from flagkit._definitions.load import validate_document
from flagkit._errors import DefinitionError, Problem
from flagkit._types import Clock

__all__ = ["isolated_native"]


def _flag_level(problems: tuple[Problem, ...]) -> bool:
    return bool(problems) and all(p.flag is not None for p in problems)


def isolated_native(
    raw: Any,
    error: DefinitionError,
    *,
    origin: str,
    revision: str,
    clock: Clock,
    keep_definitions: bool,
) -> Snapshot:
    """Return a snapshot of ``raw`` without its broken flags, or raise ``error``.

    ``error`` is what strict validation of ``raw`` raised; it is raised again
    when any of its problems lies outside every flag.
    """
    if not _flag_level(error.problems) or not isinstance(raw, Mapping):
        raise error
    flags = raw.get("flags")
    if not isinstance(flags, Mapping):
        raise error
    source = None if origin == "<memory>" else origin
    problems = list(error.problems)
    refused = {p.flag for p in problems}
    while True:
        remaining = {key: flag for key, flag in flags.items() if key not in refused}
        try:
            document = validate_document({**raw, "flags": remaining}, source=source)
        except DefinitionError as again:
            more = {p.flag for p in again.problems} - refused
            if not _flag_level(again.problems) or not more:
                raise error from again
            problems += again.problems  # refused in turn: a prerequisite was refused
            refused |= more
            continue
        break
    snapshot = compile_document(
        document,
        origin=origin,
        revision=revision,
        clock=clock,
        keep_definitions=keep_definitions,
    )
    by_flag: dict[str, list[Problem]] = {}
    for problem in problems:
        by_flag.setdefault(str(problem.flag), []).append(problem)
    compiled = dict(snapshot.flags)
    for key, found in by_flag.items():
        located = "; ".join(str(p) for p in found)
        compiled[key] = refused_flag(key, f"flag {key!r} was refused: {located}")
    return Snapshot(
        flags=compiled,
        origin=snapshot.origin,
        format=snapshot.format,
        loaded_at=snapshot.loaded_at,
        revision=snapshot.revision,
        document=snapshot.document,
        problems=tuple(problems),
        refused=frozenset(by_flag),
    )
