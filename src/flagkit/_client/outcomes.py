"""Outcomes per served variant: calls, errors, wall time and tracked events.

Toggle points (``toggles.py``: the decorators and ``Client.toggle``)
record each call of the code a flag chose; ``Client.record_error``,
``record_value`` and ``track`` add what is measured elsewhere. Guards
compare these outcomes between variants; ``flagkit.otel`` exports them.

The hot path is the evaluation counters' design (``counters.py``): each
thread writes into its own table (flag -> variant -> ``Cell``) without a
lock, and a reader sums every thread's table. Latency histograms
(``latency.py``) are kept only for flags a guard watches for latency: a
cell's is a list of counts indexed by bucket (an increment in place, the
cheapest count there is), read out as a mapping of the buckets seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from time import perf_counter_ns
from types import MappingProxyType
from typing import NamedTuple

from flagkit._client.latency import bucket_floor, quantile_bucket
from flagkit._client.perthread import ThreadTables
from flagkit._sources import forking

__all__ = [
    "EVERY_FLAG",
    "MAX_EVENT_NAMES",
    "OTHER_EVENTS",
    "Cell",
    "EventTotals",
    "OutcomeKey",
    "OutcomeTotals",
    "Outcomes",
    "count_in",
    "event_sums",
]

Table = dict[str, dict[str, "Cell"]]
_NO_EVENTS: Mapping[str, EventTotals] = MappingProxyType({})
_NO_HISTOGRAM: Mapping[int, int] = MappingProxyType({})


class OutcomeKey(NamedTuple):
    """Whose outcomes: a flag and the variant it served."""

    flag_key: str
    variant: str


@dataclass(frozen=True, slots=True)
class EventTotals:
    """A tracked event's count, and the sum and sum of squares of its values."""

    count: int = 0
    values: int = 0
    total: float = 0.0
    squares: float = 0.0

    @property
    def mean(self) -> float | None:
        """Return the mean value (None without values)."""
        return self.total / self.values if self.values else None

    def __sub__(self, other: EventTotals) -> EventTotals:
        return EventTotals(
            self.count - other.count,
            self.values - other.values,
            self.total - other.total,
            self.squares - other.squares,
        )


@dataclass(frozen=True, slots=True)
class OutcomeTotals:
    """What one variant's toggle points recorded: calls, errors, wall time, events."""

    calls: int = 0
    errors: int = 0
    nanos: int = 0
    events: Mapping[str, EventTotals] = field(default_factory=lambda: _NO_EVENTS)
    histogram: Mapping[int, int] = field(default_factory=lambda: _NO_HISTOGRAM, repr=False)

    @property
    def seconds(self) -> float:
        """Return the total wall time of the calls, in seconds."""
        return self.nanos / 1e9

    @property
    def error_rate(self) -> float | None:
        """Return errors per call (None before the first call)."""
        return self.errors / self.calls if self.calls else None

    def latency(self, quantile: float) -> float | None:
        """Return the ``quantile`` of wall time in seconds (None without a histogram).

        Read from the guard's histogram, so within about 4.4%; only flags a
        guard watches for latency keep one.
        """
        bucket = quantile_bucket(self.histogram, quantile)
        return None if bucket is None else bucket_floor(bucket) / 1e9

    def __sub__(self, other: OutcomeTotals) -> OutcomeTotals:
        events = {
            name: totals - other.events.get(name, EventTotals())
            for name, totals in self.events.items()
        }
        histogram = {b: count - other.histogram.get(b, 0) for b, count in self.histogram.items()}
        return OutcomeTotals(
            self.calls - other.calls,
            self.errors - other.errors,
            self.nanos - other.nanos,
            MappingProxyType(events),
            MappingProxyType(histogram),
        )


#: Distinct tracked event names kept per variant; the rest are summed under ``OTHER_EVENTS``
#: (names come from callers: a loop over unique names must not grow the tables).
MAX_EVENT_NAMES = 256
OTHER_EVENTS = "<other>"


def event_sums(events: dict[str, list[float]], name: str) -> list[float]:
    """Return the running sums of event ``name`` in ``events``, bounded (``MAX_EVENT_NAMES``)."""
    sums = events.get(name)
    if sums is None:
        if len(events) >= MAX_EVENT_NAMES:
            name = OTHER_EVENTS
            sums = events.get(name)
        if sums is None:
            sums = events[name] = [0, 0, 0.0, 0.0]
    return sums


def count_in(histogram: list[int], bucket: int) -> None:
    """Count one call in ``bucket`` of a cell's histogram, growing it to hold the bucket."""
    if bucket >= len(histogram):  # room for an octave more: slower calls come in runs
        histogram.extend([0] * (bucket + 16 - len(histogram)))
    histogram[bucket] += 1


class Cell:
    """One thread's running outcomes of one variant (mutable; see the module docstring).

    ``record`` is the definition of recording a call: toggle points find
    their thread's cell and call it (``Outcomes.record_call`` does both);
    the sync ``feature`` decorator writes it out (``decorators.py``, checked
    against it in tests/client/test_outcomes.py).
    """

    __slots__ = ("calls", "errors", "events", "histogram", "nanos", "store")

    def __init__(self, store: Outcomes | None, histogram: bool) -> None:
        self.store = store
        self.calls = 0
        self.errors = 0
        self.nanos = 0
        self.histogram: list[int] | None = [] if histogram else None
        self.events: dict[str, list[float]] = {}

    def record(self, start: int, failed: bool) -> None:
        """Record one call that started at ``start`` (perf_counter_ns) and ended now."""
        end = perf_counter_ns()
        elapsed = end - start
        self.calls += 1
        self.nanos += elapsed
        if failed:
            self.errors += 1
        histogram = self.histogram
        if histogram is not None:
            # latency.bucket_of, written out in fewer operations: this runs on every call
            # of a timed flag (tests/client/test_outcomes.py checks the two agree).
            bits = elapsed.bit_length()
            bucket = (bits << 4) + (elapsed >> (bits - 5)) - 80 if bits > 5 else elapsed
            try:
                histogram[bucket] += 1
            except IndexError:  # a slower call than any so far
                count_in(histogram, bucket)
        store = self.store
        if store is not None and end >= store.next_due:
            store.due(end)

    def merge(self, other: Cell) -> None:
        """Add ``other``'s outcomes to this cell."""
        self.calls += other.calls
        self.errors += other.errors
        self.nanos += other.nanos
        if other.histogram:
            theirs = list(other.histogram)  # a copy: its thread may be growing it
            mine = self.histogram if self.histogram is not None else []
            mine.extend([0] * (len(theirs) - len(mine)))
            for bucket, count in enumerate(theirs):
                if count:
                    mine[bucket] += count
            self.histogram = mine
        for name, sums in list(other.events.items()):
            total = event_sums(self.events, name)
            for i in range(4):
                total[i] += sums[i]

    def totals(self) -> OutcomeTotals:
        """Return the cell as immutable totals."""
        events = {
            name: EventTotals(int(c), int(v), t, s)
            for name, (c, v, t, s) in list(self.events.items())
        }
        return OutcomeTotals(
            self.calls,
            self.errors,
            self.nanos,
            MappingProxyType(events),
            MappingProxyType({b: count for b, count in enumerate(self.histogram or ()) if count}),
        )


class _EveryFlag:
    """A container holding every flag key (``Client(outcomes=True)``)."""

    __slots__ = ()

    def __contains__(self, flag_key: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERY_FLAG"


EVERY_FLAG: Container[str] = _EveryFlag()


class Outcomes:
    """The outcome store of one client: per-thread cells, summed on read.

    ``watched`` holds the flags whose toggle points record (``EVERY_FLAG``
    with ``outcomes=True``), so a toggle point asks one ``in``; ``timed``
    the flags that keep a latency histogram. ``on_due``
    runs (on the recording thread, at most once per ``interval`` seconds)
    so guards can look at fresh outcomes.
    """

    def __init__(self, *, every_flag: bool = False, interval: float = 0.1) -> None:
        self.every_flag = every_flag
        self.watched: Container[str] = EVERY_FLAG if every_flag else frozenset()
        self.timed: frozenset[str] = frozenset()
        self.interval_ns = max(int(interval * 1e9), 0)
        self.next_due = 0
        self.on_due: Callable[[], object] | None = None
        self._retired: Table = {}
        self._tables: ThreadTables[Table] = ThreadTables("cells", dict, self._fold)
        self.local = self._tables.local
        self._due_lock = threading.Lock()
        forking.register(self)

    def after_fork_in_child(self) -> None:
        """Give the child a fresh lock: a held one would stop the guards' checks for good."""
        self._due_lock = threading.Lock()

    def records(self, flag_key: str) -> bool:
        """Return True when toggle points of ``flag_key`` record outcomes."""
        return flag_key in self.watched

    def watch(self, guarded: Iterable[str], timed: Iterable[str]) -> None:
        """Record the ``guarded`` flags (besides every flag, when asked); time the ``timed``."""
        timed = frozenset(timed)
        self.watched = EVERY_FLAG if self.every_flag else frozenset(guarded)
        if timed - self.timed:
            with self._tables.lock:
                for table in [*self._tables.live(), self._retired]:
                    for flag_key in timed & table.keys():
                        for cell in list(table[flag_key].values()):
                            if cell.histogram is None:
                                cell.histogram = []
        self.timed = timed

    # -- recording (the hot path) ---------------------------------------------

    def cell(self, flag_key: str, variant: str) -> Cell:
        """Return the calling thread's cell of ``flag_key``'s ``variant``."""
        try:
            table: Table = self.local.cells
        except AttributeError:
            table = self._tables.new_local()
        cells = table.get(flag_key)
        if cells is None:
            cells = table[flag_key] = {}
        cell = cells.get(variant)
        if cell is None:
            cell = cells[variant] = Cell(self, flag_key in self.timed)
        return cell

    def record_call(self, flag_key: str, variant: str, start: int, failed: bool) -> None:
        """Record one call that started at ``start`` (perf_counter_ns) and ended now."""
        self.cell(flag_key, variant).record(start, failed)

    def record_error(self, flag_key: str, variant: str) -> None:
        """Record an error found outside the toggle point (the call was counted there)."""
        self.cell(flag_key, variant).errors += 1
        self.due_now()

    def record_event(self, flag_key: str, variant: str, name: str, value: float | None) -> None:
        """Record one occurrence of event ``name`` (with its value, if any)."""
        sums = event_sums(self.cell(flag_key, variant).events, name)
        sums[0] += 1
        if value is not None:
            sums[1] += 1
            sums[2] += value
            sums[3] += value * value
        self.due_now()

    def due_now(self) -> None:
        """Run ``on_due`` if its interval has passed."""
        now = perf_counter_ns()
        if now >= self.next_due:
            self.due(now)

    def due(self, now: int) -> None:
        """Run ``on_due`` unless another thread is already running it."""
        if not self._due_lock.acquire(blocking=False):
            return
        try:
            self.next_due = now + self.interval_ns
            if self.on_due is not None:
                self.on_due()
        finally:
            self._due_lock.release()

    # -- reading --------------------------------------------------------------

    def _fold(self, table: Table) -> None:
        for flag_key, cells in table.items():
            retired = self._retired.setdefault(flag_key, {})
            for variant, cell in cells.items():
                mine = retired.get(variant)
                if mine is None:
                    mine = retired[variant] = Cell(None, False)
                mine.merge(cell)

    def totals(self, flag_key: str | None = None) -> dict[OutcomeKey, OutcomeTotals]:
        """Return every variant's totals so far (of one flag, or of all), across threads."""
        with self._tables.lock:
            tables = [self._retired, *self._tables.live()]
            sums: dict[OutcomeKey, Cell] = {}
            for table in tables:
                flags = (
                    list(table.items()) if flag_key is None else [(flag_key, table.get(flag_key))]
                )
                for key, cells in flags:
                    for variant, cell in list((cells or {}).items()):
                        total = sums.get(OutcomeKey(key, variant))
                        if total is None:
                            total = sums[OutcomeKey(key, variant)] = Cell(None, False)
                        total.merge(cell)
        # A cell is made before the call it records: one whose call never ended
        # (cancelled, interrupted) holds nothing and is not an outcome.
        return {
            key: cell.totals()
            for key, cell in sums.items()
            if cell.calls or cell.errors or cell.events
        }
