"""Pausing the cyclic garbage collector around bulk loads."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects.

    Loading 10,000 flags allocates hundreds of thousands of objects, and each
    allocation burst would trigger collections that traverse the whole heap:
    measured, that costs several times the load itself. Nothing a load
    builds needs the cycle collector, so it simply resumes afterwards.
    Nested and concurrent uses are safe: only the outermost pause that found
    the collector enabled turns it back on (a concurrent load may, at worst,
    resume it a little early, which only costs time).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
