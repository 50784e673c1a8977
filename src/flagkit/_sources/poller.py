"""One daemon thread that polls until stopped, shared by the polling sources."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["PollingThread"]


class PollingThread:
    """Call ``step()`` on one daemon thread, waiting the delay it returns, until stopped.

    An Event, not ``time.sleep``, does the waiting, so ``stop()`` wakes the
    thread at once and close() never waits out a poll interval.
    """

    def __init__(self, name: str, step: Callable[[], float], *, first_delay: float) -> None:
        self.name = name
        self._step = step
        self.first_delay = first_delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread unless it is already running (one thread at most)."""
        if self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            delay = self._step()

    def stop(self) -> None:
        """Stop the thread and join it (unless called from the thread itself)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def after_fork_in_child(self) -> None:
        """Forget the parent's thread, which does not exist in a forked child."""
        self._thread = None
