"""Foreign flag formats (flagd, ...) translated onto flagkit's evaluation core.

Each format has one public module (``flagkit.formats.flagd``) re-exporting
from its private implementation modules.
"""

from __future__ import annotations

__all__: list[str] = []
