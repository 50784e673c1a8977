"""Fork safety: objects that own threads or locks re-arm in a forked child.

``os.fork()`` copies only the calling thread; background threads vanish
and locks they held stay locked forever in the child. Pre-forking servers
(gunicorn ``--preload``, uWSGI, Celery) fork after the application has
created its client, so every object that owns a thread or a lock registers
here, and one ``os.register_at_fork`` hook re-arms all live ones in the
child. A weak set keeps registration from keeping objects alive.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from typing import Protocol

from flagkit._sources import gc as gc_pause

__all__ = ["Rearmable", "register"]

logger = logging.getLogger("flagkit")


class Rearmable(Protocol):
    """An object that knows how to restart itself in a forked child."""

    def after_fork_in_child(self) -> None:
        """Replace locks and restart threads after a fork."""


_live: weakref.WeakSet[Rearmable] = weakref.WeakSet()
_guard = threading.Lock()
_hooked = False


def register(obj: Rearmable) -> None:
    """Re-arm ``obj`` in every child this process forks from now on."""
    global _hooked
    with _guard:
        _live.add(obj)
        if not _hooked and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _hooked = True


def _after_fork_in_child() -> None:
    global _guard
    _guard = threading.Lock()
    for obj in list(_live):
        try:
            obj.after_fork_in_child()
        except Exception:  # a child must start even if one object cannot re-arm
            logger.exception("flagkit: re-arming %r after fork failed", obj)


def _restore_collector_in_child() -> None:
    gc_pause.after_fork_in_child()


# Registered at import, not on first ``register``: a child must get its
# collector back even when no client or source registered anything.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restore_collector_in_child)
