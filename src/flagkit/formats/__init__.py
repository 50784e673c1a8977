"""Foreign flag formats (flagd, ...) translated onto flagkit's evaluation core.

The modules here are private until the core's Snapshot can host them; the
public entry points (``flagkit.formats.flagd``) will re-export from them.
"""

from __future__ import annotations

__all__: list[str] = []
