"""Text to plain data: reading flag files and parsing JSON, TOML and YAML.

Nothing here validates: ``load`` turns the parsed data into a checked
document. Files are read with a size cap (hostile input is bounded).
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

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

#: Flag files larger than this are refused (hostile input is bounded).
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024

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
    """Parse a document's text into plain Python data."""
    try:
        if syntax == "json":
            return json.loads(data)
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if syntax == "toml":
            return tomllib.loads(text)
        return _load_yaml(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DefinitionError(
            [Problem((), f"not valid {syntax.upper()}: {message}", source)], source
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
