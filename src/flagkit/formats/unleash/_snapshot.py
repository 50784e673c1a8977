"""Turn an Unleash client API document into a flagkit :class:`~flagkit.Snapshot`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flagkit._core.snapshot import Snapshot
from flagkit._types import Clock
from flagkit.formats.unleash._compile import compile_features
from flagkit.formats.unleash._model import validate_unleash_document

__all__ = ["looks_like_unleash", "snapshot_from_unleash"]


def looks_like_unleash(raw: Any) -> bool:
    """Return True when parsed data is an Unleash document (``features`` list, or delta ``events``).

    A native or flagd document keeps its flags in a ``flags`` mapping; an
    Unleash document lists ``features`` (or, from the delta API, ``events``).
    """
    if not isinstance(raw, Mapping) or "flags" in raw:
        return False
    return isinstance(raw.get("features"), list) or isinstance(raw.get("events"), list)


def snapshot_from_unleash(
    raw: Any,
    *,
    origin: str = "<memory>",
    revision: str = "",
    clock: Clock | None = None,
    keep_definitions: bool = False,
    app_name: str | None = None,
    environment: str | None = None,
) -> Snapshot:
    """Validate and compile a parsed Unleash document into a Snapshot.

    ``app_name`` and ``environment`` are the static context (the values
    ``appName`` and ``environment`` have when a context does not say).
    Raises :class:`~flagkit.DefinitionError` when the document's shape is
    wrong; a feature with a problem of its own resolves to an ERROR
    (PARSE_ERROR, naming the problem) while the others work.
    """
    source = None if origin == "<memory>" else origin
    document = validate_unleash_document(raw, source=source)
    static = {
        name: value
        for name, value in (("appName", app_name), ("environment", environment))
        if value is not None
    }
    flags = compile_features(document, static=static, clock=clock or time.time)
    return Snapshot(
        flags=flags,
        origin=origin,
        format="unleash",
        loaded_at=time.time(),
        revision=revision,
        document=document if keep_definitions else None,
    )
