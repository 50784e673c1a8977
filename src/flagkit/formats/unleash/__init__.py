"""Unleash feature toggles (https://docs.getunleash.io), evaluated in-process.

Read Unleash's client API document (``GET /api/client/features``, or the
client specification's ``state`` and delta ``events``) as a flagkit
snapshot, evaluated exactly as Unleash's client specification says
(``Client.from_file(path, format="unleash")`` does this for you;
``flagkit.UnleashSource`` follows a live Unleash server). See docs/unleash.md.
"""

from __future__ import annotations

from flagkit.formats.unleash._convert import convert_unleash
from flagkit.formats.unleash._model import apply_events, validate_unleash_document
from flagkit.formats.unleash._snapshot import looks_like_unleash, snapshot_from_unleash

__all__ = [
    "apply_events",
    "convert_unleash",
    "looks_like_unleash",
    "snapshot_from_unleash",
    "validate_unleash_document",
]
