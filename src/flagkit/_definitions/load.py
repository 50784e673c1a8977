"""Parsed data to a validated native document (pydantic, then cross-checks).

Validation reports every problem at once. The whole document is validated in
one pydantic call (fast, in Rust); only when that fails is each flag and
segment validated on its own, so that a structural error in one flag does
not hide a cross-reference error in another. Problems are reported in the
order their places appear in the file, whichever check found them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flagkit._definitions.model import SERVE_TAGS, Document, Flag, Segment
from flagkit._definitions.parse import parse_bytes, read_bytes, syntax_of
from flagkit._definitions.validate import check_document
from flagkit._errors import DefinitionError, Problem
from flagkit._types import PathLike, Syntax

__all__ = ["load_bytes", "load_file", "validate_document"]

M = TypeVar("M", bound=BaseModel)


def load_file(path: PathLike, syntax: Syntax | None = None) -> Document:
    """Read, parse and validate a flag file."""
    source = os.fspath(path)
    return load_bytes(read_bytes(source), syntax or syntax_of(source), source=source)


def load_bytes(data: bytes | str, syntax: Syntax, *, source: str | None = None) -> Document:
    """Parse and validate a document's text; raise DefinitionError with every problem.

    JSON goes straight to pydantic's Rust parser, which skips building the
    intermediate Python objects; only a document that fails is parsed again
    to report each problem with its location.
    """
    if syntax == "json":
        try:
            document = Document.model_validate_json(data)
        except ValidationError:
            pass
        else:
            try:
                return _checked(document, source)
            except DefinitionError as exc:  # rare: parse again, only to order the report
                ordered = in_file_order(exc.problems, json.loads(data))
                raise DefinitionError(ordered, source) from None
    return validate_document(
        parse_bytes(data, syntax, source=source or "<document>"), source=source
    )


def validate_document(raw: Any, *, source: str | None = None) -> Document:
    """Validate parsed data as a native document; raise DefinitionError with every problem."""
    try:
        document = Document.model_validate(raw)
    except ValidationError:
        problems = _collect_structural(raw)
    else:
        try:
            return _checked(document, source)
        except DefinitionError as exc:
            problems = list(exc.problems)
    located = [Problem(p.path, p.message, source) for p in problems]
    raise DefinitionError(in_file_order(located, raw), source)


def _checked(document: Document, source: str | None) -> Document:
    problems = check_document(document.flags, document.segments)
    if problems:
        raise DefinitionError([Problem(p.path, p.message, source) for p in problems], source)
    return document


def in_file_order(problems: Iterable[Problem], raw: Any) -> list[Problem]:
    """Return ``problems`` sorted by where their paths appear in the parsed document.

    Parsers keep the order of keys as written (JSON, TOML and YAML alike), so
    the position of each path component among its siblings is its place in
    the file; a path that leaves the document sorts after its parent's
    existing fields. The sort is stable: problems at one place keep the order
    of the checks that found them.
    """

    places: dict[int, dict[Any, int]] = {}  # per mapping: key -> its index (built once)

    def position(problem: Problem) -> tuple[int, ...]:
        key: list[int] = []
        node = raw
        for part in problem.path:
            if isinstance(node, Mapping):
                place = places.get(id(node))
                if place is None:
                    place = places[id(node)] = {name: i for i, name in enumerate(node)}
                index = place.get(part, len(place))
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int):
                index = part
                node = node[part] if 0 <= part < len(node) else None
            else:
                index, node = 0, None
            key.append(index)
        return tuple(key)

    return sorted(problems, key=position)


def _collect_structural(raw: Any) -> list[Problem]:
    """Validate each part on its own so that every problem is reported."""
    if not isinstance(raw, Mapping):
        return [Problem((), f"a flag document must be a mapping, not {type(raw).__name__}")]
    envelope = {k: v for k, v in raw.items() if k not in ("flags", "segments")}
    problems = _problems_of(Document, envelope, ())
    segments, broken_segments = _validate_section(raw, "segments", Segment, problems)
    flags, broken_flags = _validate_section(raw, "flags", Flag, problems)
    problems += check_document(
        flags, segments, known_flags=broken_flags, known_segments=broken_segments
    )
    return problems


def _validate_section(
    raw: Mapping[str, Any], section: str, model: type[M], problems: list[Problem]
) -> tuple[dict[str, M], list[str]]:
    """Validate each entry of one section; return the valid ones and the broken names."""
    good: dict[str, M] = {}
    broken: list[str] = []
    entries = raw.get(section, {})
    if not isinstance(entries, Mapping):
        problems.append(Problem((section,), "must be a mapping of names to definitions"))
        return good, broken
    for name, entry in entries.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 256:
            problems.append(Problem((section, str(name)), "names must be 1-256 character strings"))
            continue
        found = _problems_of(model, entry, (section, name))
        if found:
            problems += found
            broken.append(name)
        else:
            good[name] = model.model_validate(entry)
    return good, broken


def _problems_of(model: type[BaseModel], data: Any, prefix: tuple[str | int, ...]) -> list[Problem]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [
            Problem(
                (*prefix, *(part for part in err["loc"] if part not in SERVE_TAGS)),
                _message(err),
            )
            for err in exc.errors(include_url=False)
        ]
    return []


def _message(err: Any) -> str:
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if err["type"] == "missing":
        return "required field missing"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    return message
