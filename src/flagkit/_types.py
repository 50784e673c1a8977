"""Type aliases every layer shares, each defined once.

``Syntax`` is how a document is *written* (JSON, TOML or YAML);
``DocumentFormat`` is what it *means* (flagkit's native format, a flagd
document, an Unleash document, or any of them, detected from the content). The two are separate
choices: a flagd document may be written in YAML.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeAlias, get_args

__all__ = [
    "DOCUMENT_FORMATS",
    "FLAGD_HASHINGS",
    "SYNTAXES",
    "Clock",
    "ContextLike",
    "DocumentFormat",
    "FieldPath",
    "FlagdHashing",
    "PathLike",
    "Syntax",
]

#: An evaluation context: ``targetingKey`` plus attributes, nested ones included.
ContextLike: TypeAlias = Mapping[str, Any]
#: A clock: POSIX seconds now (``time.time``); tests pass a fixed one.
Clock: TypeAlias = Callable[[], float]
#: How a document is written.
Syntax: TypeAlias = Literal["json", "toml", "yaml"]
SYNTAXES: tuple[Syntax, ...] = get_args(Syntax)
#: What a document means: native flags, a flagd or an Unleash document, or auto (detected).
DocumentFormat: TypeAlias = Literal["native", "flagd", "unleash", "auto"]
DOCUMENT_FORMATS: tuple[DocumentFormat, ...] = get_args(DocumentFormat)
#: How flagd's ``fractional`` hashes its bucketing value: ``"v2"`` (Go flagd, the
#: JavaScript core, flagkit's rollouts) or ``"v3"`` (flagd-core 2.0's CBOR).
FlagdHashing: TypeAlias = Literal["v2", "v3"]
FLAGD_HASHINGS: tuple[FlagdHashing, ...] = get_args(FlagdHashing)
#: A field path inside a document, e.g. ``("flags", "banner", "rules", 0, "when")``.
FieldPath: TypeAlias = tuple[str | int, ...]
#: A file system path.
PathLike: TypeAlias = str | os.PathLike[str]
