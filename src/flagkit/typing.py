"""Protocols and type aliases for code that plugs into flagkit.

Implement these to provide your own exposure sink or to receive snapshots
from a custom source; annotate with them in your own code.
"""

from flagkit._client.context import ContextLike
from flagkit._client.decorators import ContextFactory
from flagkit._client.exposure import ExposureSink
from flagkit._client.hooks import HookHints
from flagkit._sources.base import SnapshotSink

__all__ = ["ContextFactory", "ContextLike", "ExposureSink", "HookHints", "SnapshotSink"]
