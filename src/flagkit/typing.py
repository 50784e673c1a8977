"""Protocols and type aliases for code that plugs into flagkit.

Implement these to provide your own exposure sink or to receive snapshots
from a custom source; annotate with them in your own code.
"""

from flagkit._context import ContextLike
from flagkit._decorators import ContextFactory
from flagkit._exposure import ExposureSink
from flagkit._hooks import HookHints
from flagkit._source import SnapshotSink

__all__ = ["ContextFactory", "ContextLike", "ExposureSink", "HookHints", "SnapshotSink"]
