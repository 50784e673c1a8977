"""Bytes to a validated document: parsing JSON, TOML and YAML, then pydantic.

Validation reports every problem at once. The whole document is validated in
one pydantic call (fast, in Rust); only when that fails is each flag and
segment validated on its own, so that a structural error in one flag does
not hide a cross-reference error in another.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from flagkit._definitions.model import SERVE_TAGS, Document, Flag, Segment
from flagkit._definitions.validate import check_document
from flagkit._errors import DefinitionError, Problem, SourceError
from flagkit._sources.gc import gc_paused

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Format",
    "format_of",
    "load_bytes",
    "load_file",
    "parse_bytes",
    "read_bytes",
    "read_file",
    "validate_document",
]

Format = Literal["json", "toml", "yaml"]
M = TypeVar("M", bound=BaseModel)

#: Flag files larger than this are refused (hostile input is bounded).
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024

_SUFFIXES: dict[str, Format] = {".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}


def format_of(path: str | os.PathLike[str]) -> Format:
    """Return the format a file name's suffix implies."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise SourceError(
            f"{path}: cannot tell the syntax from {suffix or 'no suffix'!r}; "
            "use .json, .toml, .yaml or .yml, or pass syntax="
        )
    return _SUFFIXES[suffix]


def parse_bytes(data: bytes | str, fmt: Format, *, source: str = "<document>") -> Any:
    """Parse a document's text into plain Python data."""
    try:
        if fmt == "json":
            return json.loads(data)
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if fmt == "toml":
            return tomllib.loads(text)
        return _load_yaml(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DefinitionError(
            [Problem((), f"not valid {fmt.upper()}: {message}", source)], source
        ) from exc


def _load_yaml(text: str) -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - the test extra installs PyYAML
        raise SourceError("YAML flag files need PyYAML: pip install 'flagkit[yaml]'") from exc
    try:
        return yaml.load(text, Loader=_yaml_loader(yaml))
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


_YAML_LOADER: Any = None


def _yaml_loader(yaml: Any) -> Any:
    """Return a SafeLoader that reads booleans as YAML 1.2 does.

    PyYAML follows YAML 1.1, where ``on``, ``off``, ``yes`` and ``no`` are
    booleans; in a flag file they are far more often variant names.
    """
    global _YAML_LOADER
    if _YAML_LOADER is None:
        import re

        class FlagLoader(yaml.SafeLoader):  # type: ignore[misc]
            pass

        FlagLoader.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        FlagLoader.add_implicit_resolver(
            "tag:yaml.org,2002:bool",
            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
            list("tTfF"),
        )
        _YAML_LOADER = FlagLoader
    return _YAML_LOADER


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a flag file's bytes, refusing files over ``MAX_DOCUMENT_BYTES``."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SourceError(f"{source}: larger than {MAX_DOCUMENT_BYTES} bytes; refused")
    return data


def read_file(path: str | os.PathLike[str], fmt: Format | None = None) -> Any:
    """Read and parse a flag file into plain data (not yet validated)."""
    source = os.fspath(path)
    return parse_bytes(read_bytes(source), fmt or format_of(source), source=source)


def load_file(path: str | os.PathLike[str], fmt: Format | None = None) -> Document:
    """Read, parse and validate a flag file."""
    source = os.fspath(path)
    return load_bytes(read_bytes(source), fmt or format_of(source), source=source)


def load_bytes(data: bytes | str, fmt: Format, *, source: str | None = None) -> Document:
    """Parse and validate a document's text; raise DefinitionError with every problem.

    JSON goes straight to pydantic's Rust parser, which skips building the
    intermediate Python objects; only a document that fails is parsed again
    to report each problem with its location.
    """
    with gc_paused():
        if fmt == "json":
            try:
                document = Document.model_validate_json(data)
            except ValidationError:
                pass
            else:
                return _checked(document, source)
        return validate_document(
            parse_bytes(data, fmt, source=source or "<document>"), source=source
        )


def validate_document(raw: Any, *, source: str | None = None) -> Document:
    """Validate parsed data as a native document; raise DefinitionError with every problem."""
    with gc_paused():
        try:
            document = Document.model_validate(raw)
        except ValidationError:
            problems = _collect_structural(raw)
        else:
            return _checked(document, source)
    raise DefinitionError([Problem(p.path, p.message, source) for p in problems], source)


def _checked(document: Document, source: str | None) -> Document:
    problems = check_document(document.flags, document.segments)
    if problems:
        raise DefinitionError([Problem(p.path, p.message, source) for p in problems], source)
    return document


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
