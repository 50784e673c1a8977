"""Built-in evaluation counters per flag, variant and reason.

Counting must not need a lock on the hot path, and must not lose counts:
each thread counts into its own dict (keyed by the precomputed resolution
object, so no key is built per call), and a read sums them all.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, NamedTuple

from flagkit._core.details import ErrorCode, Reason
from flagkit._core.snapshot import Resolution
from flagkit._sources import forking

__all__ = ["CountKey", "Counters"]


class CountKey(NamedTuple):
    """What one count is of."""

    flag_key: str
    variant: str | None
    reason: str
    error_code: str | None = None


class Counters:
    """Exact, lock-free-per-call counters of evaluations."""

    def __init__(self) -> None:
        self.local = threading.local()
        self._all: list[tuple[threading.Thread, dict[Any, int]]] = []
        self._retired: Counter[CountKey] = Counter()
        self._registry_lock = threading.Lock()
        forking.register(self)

    def new_local(self) -> dict[Any, int]:
        """Create and register the calling thread's count dict."""
        counts: dict[Any, int] = {}
        self.local.counts = counts
        with self._registry_lock:
            self._retire_dead_threads()
            self._all.append((threading.current_thread(), counts))
        return counts

    def _retire_dead_threads(self) -> None:
        """Fold the tables of finished threads into one total (bounded memory).

        A thread-per-request server would otherwise leave one table per
        request ever served. Called with the registry lock held.
        """
        alive = []
        for thread, table in self._all:
            if thread.is_alive():
                alive.append((thread, table))
            else:
                for key, count in table.items():
                    self._retired[_count_key(key)] += count
        self._all = alive

    def add(self, resolution: Resolution) -> None:
        """Count one evaluation that ended in ``resolution``."""
        try:
            counts = self.local.counts
        except AttributeError:
            counts = self.new_local()
        counts[resolution] = counts.get(resolution, 0) + 1

    def add_error(self, flag_key: str, code: ErrorCode) -> None:
        """Count one evaluation that failed before reaching a resolution."""
        key = CountKey(flag_key, None, Reason.ERROR.value, code.value)
        try:
            counts = self.local.counts
        except AttributeError:
            counts = self.new_local()
        counts[key] = counts.get(key, 0) + 1

    def snapshot(self) -> dict[CountKey, int]:
        """Return the totals so far, across every thread."""
        with self._registry_lock:
            self._retire_dead_threads()
            tables = [table for _, table in self._all]
            totals: Counter[CountKey] = Counter(self._retired)
        for table in tables:
            for key, count in list(table.items()):
                totals[_count_key(key)] += count
        return dict(totals)

    def reset(self) -> None:
        """Forget every count."""
        with self._registry_lock:
            self._retired.clear()
            for _, table in self._all:
                table.clear()

    def after_fork_in_child(self) -> None:
        """Give the child a fresh lock (the parent's may be held by a vanished thread)."""
        self._registry_lock = threading.Lock()


def _count_key(key: Resolution | CountKey) -> CountKey:
    if isinstance(key, Resolution):
        code = None if key.error_code is None else key.error_code.value
        return CountKey(key.flag_key, key.variant, key.reason.value, code)
    return key
