"""Per-thread tables: written without a lock by their own thread, read by any.

The evaluation counters and the outcome store count on the hot path, so
each thread writes into a table of its own (found through a
``threading.local``) and never takes a lock to do it. A reader takes the
registry lock, folds the tables of threads that have finished into one
total (so a thread-per-request server does not leave one table per request
ever served), and reads the live tables as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from flagkit._sources import forking

__all__ = ["ThreadTables"]

T = TypeVar("T")


class ThreadTables(Generic[T]):
    """A table per thread, stored as ``local.<attribute>``, registered for readers."""

    def __init__(self, attribute: str, make: Callable[[], T], retire: Callable[[T], None]) -> None:
        self.local = threading.local()
        self._attribute = attribute
        self._make = make
        self._retire = retire
        self._all: list[tuple[threading.Thread, T]] = []
        self.lock = threading.Lock()
        forking.register(self)

    def new_local(self) -> T:
        """Create, store and register the calling thread's table."""
        table = self._make()
        setattr(self.local, self._attribute, table)
        with self.lock:
            self._retire_dead_threads()
            self._all.append((threading.current_thread(), table))
        return table

    def live(self) -> list[T]:
        """Return the live threads' tables, after folding the finished ones (lock held)."""
        self._retire_dead_threads()
        return [table for _, table in self._all]

    def _retire_dead_threads(self) -> None:
        alive = []
        for thread, table in self._all:
            if thread.is_alive():
                alive.append((thread, table))
            else:
                self._retire(table)
        self._all = alive

    def after_fork_in_child(self) -> None:
        """Give the child a fresh lock (the parent's may be held by a vanished thread)."""
        self.lock = threading.Lock()
