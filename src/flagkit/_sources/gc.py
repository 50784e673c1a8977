"""Pausing the cyclic garbage collector around a bulk load, only when no one else runs.

A load through the pydantic models (an invalid document's full report,
the tools' path, a flagd document) allocates hundreds of thousands of
objects, and collections triggered by that burst traverse the whole heap:
measured, they cost several times the load itself. But ``gc.disable()`` is
process-wide. Paused from a watcher thread, it changed the application's
garbage collection during every reload, and a child forked meanwhile kept
the collector off for good (issue 17). So:

* the collector is paused only when the loading thread is the only thread
  (a client created at start-up, before any server thread): nothing else
  can run, allocate or fork while it is off; a background reload never
  touches it;
* a forked child whose parent was inside such a pause, in a thread the
  child does not have, turns the collector back on (``after_fork_in_child``,
  called by ``forking``).

The native fast path (``native``) allocates few tracked objects and never
pauses the collector.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["after_fork_in_child", "gc_paused"]

#: The thread ident of the load that turned the collector off, while it is off.
_pausing_thread: int | None = None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the collector for the block when this is the only thread; else do nothing."""
    global _pausing_thread
    if threading.active_count() > 1 or not gc.isenabled():
        yield  # other threads run (or the application turned it off): leave it alone
        return
    gc.disable()
    _pausing_thread = threading.get_ident()
    try:
        yield
    finally:
        _pausing_thread = None
        gc.enable()


def after_fork_in_child() -> None:
    """Turn the collector back on in a child forked during a pause by another thread."""
    global _pausing_thread
    if _pausing_thread is not None and _pausing_thread != threading.get_ident():
        _pausing_thread = None
        gc.enable()
