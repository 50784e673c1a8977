"""Deadlines for whole HTTP exchanges: one watchdog thread aborts what overruns.

httpx bounds each read (``read_timeout``) but not an exchange: a server that
trickles its response headers a byte at a time, each byte inside the read
timeout, holds a poll (and ``close()``, which waits for the poll) for as long
as it likes. A blocking read cannot be interrupted from its own thread, so
one daemon thread per process keeps the deadlines of the exchanges in
flight and, when one passes, calls that exchange's ``abort`` (which shuts its
sockets down, waking the blocked read with an error).

Arming and disarming cost a lock and a heap push: no thread per poll. The
thread is started on first use and re-armed in a forked child (the parent's
thread does not exist there, and its lock may have been held).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from flagkit._sources import forking

__all__ = ["Alarm", "Watchdog", "watchdog"]

logger = logging.getLogger("flagkit")


class Alarm:
    """One armed deadline; ``cancel()`` it when the exchange ends in time."""

    __slots__ = ("_abort", "cancelled", "deadline", "fired")

    def __init__(self, deadline: float, abort: Callable[[], None]) -> None:
        self.deadline = deadline
        self._abort = abort
        self.cancelled = False
        self.fired = False

    def cancel(self) -> None:
        """Disarm the alarm (a no-op once it fired)."""
        self.cancelled = True

    def fire(self) -> None:
        """Run the abort action, unless the alarm was cancelled meanwhile."""
        if self.cancelled:
            return
        self.fired = True
        try:
            self._abort()
        except Exception:  # the watchdog must outlive any one abort
            logger.debug("flagkit: aborting an overdue exchange failed", exc_info=True)


class Watchdog:
    """Fire alarms at their deadlines (``time.monotonic()``) on one daemon thread."""

    def __init__(self) -> None:
        self._reset()
        forking.register(self)

    def _reset(self) -> None:
        self._wake = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, abort: Callable[[], None]) -> Alarm:
        """Call ``abort()`` at ``deadline`` unless the returned alarm is cancelled first."""
        alarm = Alarm(deadline, abort)
        with self._wake:
            # Wake the thread only when this deadline comes before every other.
            earliest = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="flagkit-deadlines", daemon=True
                )
                self._thread.start()
            elif earliest:
                self._wake.notify()
        return alarm

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                remaining = self._heap[0][0] - time.monotonic()
                if remaining > 0:
                    self._wake.wait(remaining)
                    continue
                alarm = heapq.heappop(self._heap)[2]
            alarm.fire()  # outside the lock: aborting may take a moment

    def after_fork_in_child(self) -> None:
        """Forget the parent's thread and alarms (neither belongs to the child)."""
        self._reset()


#: The process's one watchdog.
watchdog = Watchdog()
