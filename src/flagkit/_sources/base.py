"""Sources: where snapshots come from, and how they reach a client.

A source turns bytes into snapshots and hands each one to its client
through a ``SnapshotSink`` (the client). All I/O, threads, polling and
retries live in sources; the client only swaps references.

Health is tracked here, once for every source: each refresh either
succeeds (``accept``, ``mark_success``) or fails (``reject``). The base
class counts consecutive failures, forgets the last error once a refresh
succeeds again, and tells the sink about transitions only (the first
failure of a streak, the recovery that ends it, going stale), so that logs
and listeners hear about an outage once rather than on every poll.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from flagkit._core.snapshot import Snapshot, keep_last_good
from flagkit._errors import RefusedFlagsError
from flagkit._types import Clock

__all__ = ["HealthEvent", "SnapshotSink", "Source", "SourceStatus", "refused_error"]

logger = logging.getLogger("flagkit")

#: The transitions of a source's health that a sink hears about.
HealthEvent = Literal["error", "recovered", "stale"]


class SnapshotSink(Protocol):
    """The receiving end of a source (a client)."""

    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` live."""

    def report_error(self, error: Exception) -> None:
        """Tell the client that a load failed (the live snapshot stays)."""

    def report_health(self, event: HealthEvent, error: Exception | None) -> None:
        """Tell the client that the source's health changed (see ``HealthEvent``)."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What a source knows about its own health.

    ``live`` says which copy is serving: ``"file"``, ``"memory"``,
    ``"network"``, ``"bootstrap"``, ``"cache"``, or ``"none"`` (callers'
    defaults). ``stale`` is True once the source has gone its grace period
    without a successful refresh.

    ``last_poll_ok`` is None before the first refresh, then whether the
    latest one succeeded; ``last_error`` (and ``last_error_at``) describe
    the failure streak in progress and are None again once a refresh
    succeeds. ``next_poll_at`` is the wall-clock time of the next refresh
    of a polling source (None when nothing is scheduled).
    """

    kind: str
    origin: str
    live: str
    ready: bool
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    stale: bool = False
    last_poll_ok: bool | None = None
    consecutive_failures: int = 0
    next_poll_at: float | None = None


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
        self._last_poll_ok: bool | None = None
        self._failures = 0
        self._stale_reported = False
        self._next_poll_at: float | None = None
        self._closed = False
        self._state_lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot | None:
        """Return the last snapshot this source accepted, if any."""
        return self._snapshot

    @property
    def deferred(self) -> bool:
        """Return True while the source waits for first use to start (see ``activate``)."""
        return False

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client and begin (background work starts here)."""
        self._sink = sink
        if self._snapshot is not None:
            sink.publish(self._snapshot)
            if self._snapshot.refused:
                sink.report_error(refused_error(self._snapshot))

    def activate(self) -> None:
        """Start background work that was deferred until first use; idempotent."""

    def close(self) -> None:
        """Stop background work; idempotent."""
        self._closed = True
        self._next_poll_at = None

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
            last_poll_ok=self._last_poll_ok,
            consecutive_failures=self._failures,
            next_poll_at=None if self._closed else self._next_poll_at,
        )

    def is_stale(self) -> bool:
        """Return True when the live snapshot is older than the source tolerates."""
        return False

    def scheduled(self, delay: float) -> float:
        """Record that the next refresh is ``delay`` seconds away; return ``delay``."""
        self._next_poll_at = self._clock() + delay
        return delay

    # -- refreshes ---------------------------------------------------------------

    def accept(self, snapshot: Snapshot, live: str, *, refreshed: bool = True) -> None:
        """Record a good snapshot and hand it to the client.

        Refused flags (isolated problems) keep their last good definition
        where the previous snapshot had one, and are reported on every load:
        logged, in the status, and to the client's error listeners.
        ``refreshed=False`` for a copy served before any refresh (a bootstrap,
        a cached copy): it makes flags live without counting as a success.
        """
        with self._state_lock:
            snapshot = keep_last_good(self._snapshot, snapshot)
            self._snapshot = snapshot
            self._live = live
        if refreshed:  # first, so that "recovered" comes before the change it brings
            self.mark_success()
        error = refused_error(snapshot) if snapshot.refused else None
        if error is not None:
            with self._state_lock:
                self._last_error = str(error)
                self._last_error_at = self._clock()
            logger.error(
                "flagkit: %s %s: loaded with refused flags: %s", self.kind, self.origin, error
            )
        if self._sink is not None:
            self._sink.publish(snapshot)
            if error is not None:
                self._sink.report_error(error)

    def mark_success(self) -> None:
        """Record a successful refresh (a new snapshot, or confirmation of the live one)."""
        with self._state_lock:
            self._last_success_at = self._clock()
            self._last_poll_ok = True
            failures, self._failures = self._failures, 0
            self._last_error = self._last_error_at = None
            self._stale_reported = False
        if failures:
            logger.info(
                "flagkit: %s %s: recovered after %d failed attempt%s",
                self.kind,
                self.origin,
                failures,
                "" if failures == 1 else "s",
            )
            self._report_health("recovered", None)

    def reject(self, error: Exception, *, log: bool = True) -> None:
        """Record a failed load; the live snapshot stays.

        The first failure of a streak, and any failure whose message differs
        from the previous one, is logged at ERROR; a repeat of the same
        failure only at DEBUG (an outage is one line, not one per poll).
        ``log=False`` when the caller raises the error itself (logging it
        too would report one failure twice).
        """
        message = str(error)
        with self._state_lock:
            repeated = self._failures > 0 and message == self._last_error
            first = self._failures == 0
            self._failures += 1
            self._last_poll_ok = False
            self._last_error = message
            self._last_error_at = self._clock()
        if log:
            kept = (
                "keeping the last good flags"
                if self._snapshot is not None
                else "no flags loaded yet, callers get their defaults"
            )
            level = logging.DEBUG if repeated else logging.ERROR
            logger.log(
                level,
                "flagkit: %s %s: load failed (%s; attempt %d): %s",
                self.kind,
                self.origin,
                kept,
                self._failures,
                _without_origin(message, self.origin),
            )
        if self._sink is not None:
            self._sink.report_error(error)
        if first:
            self._report_health("error", error)

    def report_if_stale(self) -> None:
        """Tell the client, once per failure streak, that the live flags went stale."""
        if self._stale_reported or not self.is_stale():
            return
        self._stale_reported = True
        logger.warning(
            "flagkit: %s %s: flags are stale (no successful refresh for too long)",
            self.kind,
            self.origin,
        )
        self._report_health("stale", None)

    def _report_health(self, event: HealthEvent, error: Exception | None) -> None:
        if self._sink is not None:
            self._sink.report_health(event, error)

    def after_fork_in_child(self) -> None:
        """Replace locks in a forked child; subclasses restart their threads too."""
        self._state_lock = threading.Lock()


def _without_origin(message: str, origin: str) -> str:
    """Return ``message`` without a leading ``origin: ``, which the log line already names."""
    prefix = f"{origin}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
