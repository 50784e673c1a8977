"""Exposure events: who saw which variant of an experiment, for A/B analysis.

Tracked events (``Client.track``: an outcome such as a purchase, with the
variants its context was served) travel the same queue to the same sink,
so an experiment's assignments and outcomes land side by side and join on
the targeting key. They are never deduplicated: each is an occurrence.

The caller's thread does the least possible: a deduplication check in a
bounded LRU (cachetools) and an append to a bounded queue. A background
thread delivers batches to the sink. A full queue drops the event and
counts it, and so does a targeting key longer than ``max_key_chars``
(memory is bounded in entries *and* in their size); nothing here ever
blocks an evaluation (the dedupe lock is only tried, never waited for).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from cachetools import LRUCache

from flagkit._core.bucketing import bucketing_key
from flagkit._sources import forking
from flagkit._types import Clock

__all__ = [
    "CallbackSink",
    "Event",
    "ExposureEvent",
    "ExposureLog",
    "ExposureSink",
    "JsonLinesSink",
    "TrackEvent",
    "as_sink",
]

logger = logging.getLogger("flagkit")


@dataclass(frozen=True, slots=True)
class ExposureEvent:
    """One user exposed to one variant of one flag."""

    flag_key: str
    variant: str | None
    targeting_key: str | None
    reason: str
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TrackEvent:
    """One tracked event (``Client.track``) and the variants its context was served.

    ``variants`` maps each opted-in flag (experiments, flags with
    ``track_exposure``, guarded flags watching events) to the variant the
    same context is served, so outcomes join the exposure events.
    ``to_dict`` adds ``"type": "track"`` to tell the two apart in a file.
    """

    name: str
    targeting_key: str | None
    value: float | None
    attributes: Mapping[str, Any]
    variants: Mapping[str, str]
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-ready dict."""
        return {
            "type": "track",
            "name": self.name,
            "targeting_key": self.targeting_key,
            "value": self.value,
            "attributes": dict(self.attributes),
            "variants": dict(self.variants),
            "timestamp": self.timestamp,
        }


#: What a sink receives: exposures, and tracked events.
Event = ExposureEvent | TrackEvent


@runtime_checkable
class ExposureSink(Protocol):
    """Where exposure and tracked events go: ``write`` gets each delivered batch, in order."""

    def write(self, events: Sequence[Event]) -> None:
        """Deliver one batch of events."""

    def close(self) -> None:
        """Release resources; called once, after the last write."""


class CallbackSink:
    """A sink that calls ``callback(events)`` with each batch."""

    def __init__(self, callback: Callable[[Sequence[Event]], object]) -> None:
        self._callback = callback

    def write(self, events: Sequence[Event]) -> None:
        """Pass the batch to the callback."""
        self._callback(events)

    def close(self) -> None:
        """Nothing to release."""


class JsonLinesSink:
    """A sink appending one JSON object per event to a file (JSON Lines)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, events: Sequence[Event]) -> None:
        """Append the batch and flush it to the OS (values JSON cannot hold become text)."""
        self._handle.write("".join(json.dumps(e.to_dict(), default=str) + "\n" for e in events))
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def __repr__(self) -> str:
        return f"JsonLinesSink({self.path!r})"


def as_sink(
    target: ExposureSink | Callable[[Sequence[Event]], object] | str | os.PathLike[str],
) -> ExposureSink:
    """Normalise a sink argument: a sink, a callable, or a JSON Lines path."""
    if isinstance(target, ExposureSink):
        return target
    if isinstance(target, str | os.PathLike):
        return JsonLinesSink(target)
    if callable(target):
        return CallbackSink(target)
    raise TypeError(f"not an exposure sink: {target!r}")


class ExposureLog:
    """Deduplicate, queue and deliver exposure events on a background thread."""

    def __init__(
        self,
        sink: ExposureSink,
        *,
        max_queue: int = 10_000,
        dedupe_size: int = 100_000,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_key_chars: int = 1024,
        clock: Clock = time.time,
    ) -> None:
        self.sink = sink
        self.max_queue = max_queue
        self.max_key_chars = max_key_chars
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._clock = clock
        self._queue: collections.deque[Event] = collections.deque()
        self._seen: LRUCache[tuple[str, Any, str | None], bool] = LRUCache(maxsize=dedupe_size)
        self.dropped = 0
        self.deduplicated = 0
        self.delivered = 0
        self.failed = 0
        self._closed = False
        self._init_threading()
        forking.register(self)

    def _init_threading(self) -> None:
        self._seen_lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None

    def record(self, flag_key: str, variant: str | None, targeting_key: Any, reason: str) -> None:
        """Queue one exposure unless it repeats a recent one; never blocks."""
        if self._closed:
            return
        target = self._target(targeting_key)
        if target is False:
            return
        key = (flag_key, target, variant)
        if self._seen_lock.acquire(blocking=False):
            try:
                if key in self._seen:
                    self.deduplicated += 1
                    return
                self._seen[key] = True
            finally:
                self._seen_lock.release()
        self._enqueue(ExposureEvent(flag_key, variant, target, reason, self._clock()))

    def record_track(
        self,
        name: str,
        targeting_key: Any,
        value: float | None,
        attributes: Mapping[str, Any],
        variants: Mapping[str, str],
    ) -> None:
        """Queue one tracked event (never deduplicated); never blocks."""
        if self._closed:
            return
        target = self._target(targeting_key)
        if target is False:
            return
        self._enqueue(TrackEvent(name, target, value, attributes, variants, self._clock()))

    def _target(self, targeting_key: Any) -> str | Literal[False] | None:
        """Return an event's targeting key as text (None without one); False drops the event."""
        target = bucketing_key(targeting_key)  # a str or 64-bit int key, as text; else None
        if target is not None and len(target) > self.max_key_chars:
            # Kept events and dedupe entries hold the key: a huge one must not
            # multiply into the queue's and the LRU's bounds.
            self.dropped += 1
            return False
        return target

    def _enqueue(self, event: Event) -> None:
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            return
        self._queue.append(event)
        if self._thread is None:
            self._start()
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    def _start(self) -> None:
        with self._idle:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="flagkit-exposure", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self._deliver_all()
            if self._closed and not self._queue:
                return

    def _deliver_all(self) -> None:
        while True:
            # Take the batch and count it in flight in one critical section, so
            # flush() never sees an empty queue with a batch not yet delivered.
            with self._idle:
                if not self._queue:
                    return
                batch: list[Event] = []
                while self._queue and len(batch) < self.batch_size:
                    batch.append(self._queue.popleft())
                self._in_flight += len(batch)
            try:
                self.sink.write(batch)
                self.delivered += len(batch)
            except Exception:
                self.failed += len(batch)
                logger.warning(
                    "flagkit: exposure sink %r failed; batch lost", self.sink, exc_info=True
                )
            finally:
                with self._idle:
                    self._in_flight -= len(batch)
                    self._idle.notify_all()

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Deliver everything queued; return False if ``timeout`` ran out first."""
        if self._thread is None:
            self._deliver_all()
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._queue or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._wake.set()
                self._idle.wait(0.05 if remaining is None else min(remaining, 0.05))
        return True

    def close(self, timeout: float | None = 5.0) -> None:
        """Deliver what is queued, stop the thread and close the sink."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._deliver_all()
        try:
            self.sink.close()
        except Exception:
            logger.warning("flagkit: closing exposure sink %r failed", self.sink, exc_info=True)

    def stats(self) -> dict[str, int]:
        """Return delivery counters: queued, delivered, deduplicated, dropped, failed."""
        return {
            "queued": len(self._queue),
            "delivered": self.delivered,
            "deduplicated": self.deduplicated,
            "dropped": self.dropped,
            "failed": self.failed,
        }

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: fresh locks, no thread, nothing inherited queued."""
        self._queue.clear()
        self._init_threading()
