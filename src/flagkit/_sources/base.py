"""Sources: where snapshots come from, and how they reach a client.

A source turns bytes into snapshots and hands each one to its client
through a ``SnapshotSink`` (the client). All I/O, threads, polling and
retries live in sources; the client only swaps references.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from flagkit._core.snapshot import Snapshot, keep_last_good
from flagkit._errors import RefusedFlagsError
from flagkit._types import Clock

__all__ = ["SnapshotSink", "Source", "SourceStatus", "refused_error"]

logger = logging.getLogger("flagkit")


class SnapshotSink(Protocol):
    """The receiving end of a source (a client)."""

    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` live."""

    def report_error(self, error: Exception) -> None:
        """Tell the client that a load failed (the live snapshot stays)."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What a source knows about its own health.

    ``live`` says which copy is serving: ``"file"``, ``"memory"``,
    ``"network"``, ``"bootstrap"``, ``"cache"``, or ``"none"`` (callers'
    defaults). ``stale`` is True once the source has gone its grace period
    without a successful refresh.
    """

    kind: str
    origin: str
    live: str
    ready: bool
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    stale: bool = False


def refused_error(snapshot: Snapshot) -> RefusedFlagsError:
    """Return the error naming a snapshot's refused flags and every problem, located."""
    return RefusedFlagsError(
        snapshot.problems,
        None if snapshot.origin == "<memory>" else snapshot.origin,
        refused=snapshot.refused,
        kept=snapshot.kept,
    )


class Source:
    """Base class of sources: records successes and failures, feeds one client."""

    kind = "source"

    def __init__(self, origin: str, *, clock: Clock = time.time) -> None:
        self.origin = origin
        self._clock = clock
        self._sink: SnapshotSink | None = None
        self._snapshot: Snapshot | None = None
        self._live = "none"
        self._last_success_at: float | None = None
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._closed = False
        self._state_lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot | None:
        """Return the last snapshot this source accepted, if any."""
        return self._snapshot

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client and begin (background work starts here)."""
        self._sink = sink
        if self._snapshot is not None:
            sink.publish(self._snapshot)
            if self._snapshot.refused:
                sink.report_error(refused_error(self._snapshot))

    def close(self) -> None:
        """Stop background work; idempotent."""
        self._closed = True

    def status(self) -> SourceStatus:
        """Return this source's health."""
        return SourceStatus(
            kind=self.kind,
            origin=self.origin,
            live=self._live,
            ready=self._snapshot is not None,
            last_success_at=self._last_success_at,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            stale=self.is_stale(),
        )

    def is_stale(self) -> bool:
        """Return True when the live snapshot is older than the source tolerates."""
        return False

    def accept(self, snapshot: Snapshot, live: str) -> None:
        """Record a good snapshot and hand it to the client.

        Refused flags (isolated problems) keep their last good definition
        where the previous snapshot had one, and are reported on every load:
        logged, in the status, and to the client's error listeners.
        """
        with self._state_lock:
            snapshot = keep_last_good(self._snapshot, snapshot)
            self._snapshot = snapshot
            self._live = live
            self._last_success_at = self._clock()
            error = refused_error(snapshot) if snapshot.refused else None
            if error is not None:
                self._last_error = str(error)
                self._last_error_at = self._clock()
        if error is not None:
            logger.error(
                "flagkit: %s %s: loaded with refused flags: %s", self.kind, self.origin, error
            )
        if self._sink is not None:
            self._sink.publish(snapshot)
            if error is not None:
                self._sink.report_error(error)

    def mark_success(self) -> None:
        """Record a successful refresh that changed nothing (e.g. an unchanged file)."""
        self._last_success_at = self._clock()

    def reject(self, error: Exception, *, log: bool = True) -> None:
        """Record a failed load; the live snapshot stays.

        ``log=False`` when the caller raises the error itself (logging it
        too would report one failure twice).
        """
        with self._state_lock:
            self._last_error = str(error)
            self._last_error_at = self._clock()
        if log:
            kept = (
                "keeping the last good flags"
                if self._snapshot is not None
                else "no flags loaded yet, callers get their defaults"
            )
            logger.error("flagkit: %s %s: load failed, %s: %s", self.kind, self.origin, kept, error)
        if self._sink is not None:
            self._sink.report_error(error)

    def after_fork_in_child(self) -> None:
        """Replace locks in a forked child; subclasses restart their threads too."""
        self._state_lock = threading.Lock()
