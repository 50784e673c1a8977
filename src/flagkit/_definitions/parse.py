"""Text to plain data: reading flag files and parsing JSON, TOML and YAML.

Nothing here validates the format: ``load`` turns the parsed data into a
checked document. Parsing is bounded (hostile input is): files are read
with a size cap, only if regular; documents over the caps of ``limits``
are refused; a key an object repeats is a located problem.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from flagkit._definitions import limits
from flagkit._definitions.duplicates import json_duplicates
from flagkit._definitions.yaml_loader import load_yaml
from flagkit._errors import DefinitionError, Problem, SourceError
from flagkit._types import PathLike, Syntax

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "parse_bytes",
    "read_bytes",
    "read_file",
    "read_regular_file",
    "syntax_of",
]

#: Flag files larger than this are refused (hostile input is bounded; ``limits``).
MAX_DOCUMENT_BYTES = limits.MAX_DOCUMENT_BYTES

_SUFFIXES: dict[str, Syntax] = {".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}


def syntax_of(path: PathLike) -> Syntax:
    """Return the syntax a file name's suffix implies."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise SourceError(
            f"{path}: cannot tell the syntax from {suffix or 'no suffix'!r}; "
            "use .json, .toml, .yaml or .yml, or pass syntax="
        )
    return _SUFFIXES[suffix]


def parse_bytes(data: bytes | str, syntax: Syntax, *, source: str = "<document>") -> Any:
    """Parse a document's text into plain data, within the caps (``limits``), keys unrepeated.

    Raise DefinitionError for malformed text, a document over a cap, or a
    key that an object repeats (each repetition located).
    """
    try:
        if syntax == "json":
            parsed = json.loads(data)
            limits.check_document_counts(parsed, source=source)
            if len(data) >= _WALK_FROM and limits.json_nodes_at_most(data) > limits.MAX_NODES:
                limits.check_parsed(parsed, source=source)
            problems = json_duplicates(data, parsed, source)
            if problems:
                raise DefinitionError(problems, source)
            return parsed
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if syntax == "toml":
            parsed = tomllib.loads(text)
            limits.check_parsed(parsed, source=source)
            return parsed
        return load_yaml(text, source)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DefinitionError(
            [Problem((), f"not valid {syntax.upper()}: {message}", source)], source
        ) from exc


#: A JSON text shorter than this cannot hold ``MAX_NODES`` values: no need to count.
_WALK_FROM = limits.MAX_NODES


def read_regular_file(path: PathLike, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` of a regular file; raise OSError or ValueError otherwise.

    The file is opened non-blocking and checked with ``fstat`` before any
    read: a FIFO, a device or a socket at the path would otherwise block the
    caller (a FIFO without a writer blocks ``open`` itself) or never end.
    ValueError says the file is not regular or is larger than ``max_bytes``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # the file grew after the fstat
        raise ValueError(f"larger than {max_bytes} bytes")
    return data


def read_bytes(path: PathLike) -> bytes:
    """Read a flag file's bytes: a regular file of at most ``MAX_DOCUMENT_BYTES``."""
    source = os.fspath(path)
    try:
        return read_regular_file(source, MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise SourceError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise SourceError(f"{source}: {exc}; refused") from exc


def read_file(path: PathLike, syntax: Syntax | None = None) -> Any:
    """Read and parse a flag file into plain data (not yet validated)."""
    source = os.fspath(path)
    return parse_bytes(read_bytes(source), syntax or syntax_of(source), source=source)
