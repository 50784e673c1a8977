"""Built-in evaluation counters per flag, variant and reason.

Counting must not need a lock on the hot path, and must not lose counts:
each thread counts into its own dict, and a read sums them all.

A count's key is a *tally*: one small object per distinct (flag, variant,
reason, error code), interned process-wide and cached on each precomputed
``Resolution`` (its identity hash is the cheapest dict key there is). After
a reload, the new snapshot's resolutions find the same tallies, so the
tables never grow with reloads and never keep an old snapshot alive.

Failures before a flag is found (an unknown key, a mistyped getter, a bad
context) are counted by the key the *caller* passed, which may be anything:
at most ``MAX_ERROR_KEYS`` distinct keys (and none longer than
``MAX_KEY_CHARS``) are counted by name, and the rest under ``OTHER_KEYS``,
so a caller looping over unique keys cannot grow the tables without limit.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from typing import NamedTuple

from flagkit._client.perthread import ThreadTables
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.snapshot import Resolution

__all__ = [
    "MAX_ERROR_KEYS",
    "MAX_KEY_CHARS",
    "OTHER_KEYS",
    "CountKey",
    "Counters",
    "Tally",
    "label_of",
    "shown_key",
    "tally_of",
]

#: Distinct (flag key, error code) pairs of failed evaluations counted by name.
MAX_ERROR_KEYS = 1024
#: Longer flag keys of failed evaluations are counted under ``OTHER_KEYS`` (native keys are <= 256).
MAX_KEY_CHARS = 256
#: The flag key failed evaluations are counted under past those bounds.
OTHER_KEYS = "<other>"


def label_of(flag_key: object) -> str:
    """Return a flag key fit for counts, logs and details: itself, or its type in brackets.

    A str subclass is read by its value (``str.__str__``): none of its own
    methods runs.
    """
    if issubclass(type(flag_key), str):
        return str.__str__(flag_key)
    return f"<{type(flag_key).__name__}>"


def shown_key(flag_key: object) -> str:
    """Return ``label_of(flag_key)`` cut to ``MAX_KEY_CHARS`` characters, for log messages."""
    if type(flag_key) is str and len(flag_key) <= MAX_KEY_CHARS:
        return flag_key  # the common case: a flag key as it is
    label = label_of(flag_key)
    return label if len(label) <= MAX_KEY_CHARS else f"{label[:MAX_KEY_CHARS]}..."


class CountKey(NamedTuple):
    """What one count is of."""

    flag_key: str
    variant: str | None
    reason: str
    error_code: str | None = None


class Tally:
    """The interned key of one count (see the module docstring)."""

    __slots__ = ("__weakref__", "key")

    def __init__(self, key: CountKey) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"Tally({self.key})"


_tallies: weakref.WeakValueDictionary[CountKey, Tally] = weakref.WeakValueDictionary()
_intern_lock = threading.Lock()


def _intern(key: CountKey) -> Tally:
    with _intern_lock:
        tally = _tallies.get(key)
        if tally is None:
            tally = _tallies[key] = Tally(key)
        return tally


def tally_of(resolution: Resolution) -> Tally:
    """Return the tally counting ``resolution`` (interned, cached on it)."""
    tally: Tally | None = resolution.tally
    if tally is None:
        code = None if resolution.error_code is None else resolution.error_code.value
        key = CountKey(resolution.flag_key, resolution.variant, resolution.reason.value, code)
        tally = resolution.tally = _intern(key)
    return tally


class Counters:
    """Exact, lock-free-per-call counters of evaluations."""

    def __init__(self) -> None:
        self._retired: Counter[CountKey] = Counter()
        self._tables: ThreadTables[dict[Tally, int]] = ThreadTables("counts", dict, self._fold)
        self.local = self._tables.local
        self.new_local = self._tables.new_local
        self._errors: dict[tuple[str, ErrorCode], Tally] = {}

    def _fold(self, table: dict[Tally, int]) -> None:
        for tally, count in table.items():
            self._retired[tally.key] += count

    def add(self, resolution: Resolution) -> None:
        """Count one evaluation that ended in ``resolution``."""
        self.add_tally(tally_of(resolution))

    def add_tally(self, tally: Tally) -> None:
        """Count one evaluation under ``tally``."""
        try:
            counts = self.local.counts
        except AttributeError:
            counts = self.new_local()
        counts[tally] = counts.get(tally, 0) + 1

    def add_error(self, flag_key: object, code: ErrorCode) -> None:
        """Count one evaluation that failed before reaching a resolution.

        ``flag_key`` is whatever the caller passed (see the module docstring
        for the bounds).
        """
        label = flag_key if type(flag_key) is str else label_of(flag_key)
        tally = self._errors.get((label, code))
        if tally is None:
            if len(label) > MAX_KEY_CHARS or len(self._errors) >= MAX_ERROR_KEYS:
                label = OTHER_KEYS
                tally = self._errors.get((label, code))
            if tally is None:  # a race may intern it twice: _intern returns one tally
                key = CountKey(label, None, Reason.ERROR.value, code.value)
                tally = self._errors[(label, code)] = _intern(key)
        self.add_tally(tally)

    def snapshot(self) -> dict[CountKey, int]:
        """Return the totals so far, across every thread."""
        with self._tables.lock:
            tables = self._tables.live()
            totals: Counter[CountKey] = Counter(self._retired)
        for table in tables:
            for tally, count in list(table.items()):
                totals[tally.key] += count
        return dict(totals)

    def reset(self) -> None:
        """Forget every count (and which failed keys were counted by name)."""
        with self._tables.lock:
            self._errors = {}
            self._retired.clear()
            for table in self._tables.live():
                table.clear()
