"""flagd flag-definition documents (https://flagd.dev/reference/flag-definitions/).

Read them as flagkit snapshots (``Client.from_file(path, format="flagd")`` does
this for you), resolve them exactly as flagd's providers do, and convert them
to flagkit's native format where it can say the same thing.
"""

from __future__ import annotations

from flagkit.formats.flagd._convert import Conversion, convert_flagd
from flagkit.formats.flagd._model import validate_flagd_document
from flagkit.formats.flagd._snapshot import looks_like_flagd, snapshot_from_flagd

__all__ = [
    "Conversion",
    "convert_flagd",
    "looks_like_flagd",
    "snapshot_from_flagd",
    "validate_flagd_document",
]
