"""What listeners hear: the flags a new snapshot changed, and changes of health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flagkit._core.snapshot import Snapshot

__all__ = ["ChangeEvent", "StatusEvent", "StatusKind", "describe_change", "diff_snapshots"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """The flags a new snapshot added, removed and modified, and the snapshots."""

    added: frozenset[str]
    removed: frozenset[str]
    modified: frozenset[str]
    previous: Snapshot
    current: Snapshot

    @property
    def changed(self) -> frozenset[str]:
        """Return every flag key that differs (added, removed or modified)."""
        return self.added | self.removed | self.modified

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.modified)


def diff_snapshots(previous: Snapshot, current: Snapshot) -> ChangeEvent:
    """Return what ``current`` changes relative to ``previous``."""
    old, new = previous.flags, current.flags
    added = frozenset(k for k in new if k not in old)
    removed = frozenset(k for k in old if k not in new)
    modified = frozenset(
        k for k, flag in new.items() if k in old and old[k].fingerprint != flag.fingerprint
    )
    return ChangeEvent(added, removed, modified, previous, current)


def describe_change(event: ChangeEvent, *, limit: int = 5) -> str:
    """Return a one-line account of a change: counts, and the first few keys of each kind."""
    parts = []
    for label, keys in (
        ("modified", event.modified),
        ("added", event.added),
        ("removed", event.removed),
    ):
        if keys:
            names = sorted(keys)
            shown = ", ".join(names[:limit]) + (", …" if len(names) > limit else "")
            parts.append(f"{len(names)} {label} ({shown})")
    return "; ".join(parts)


#: The kinds of status event (OpenFeature's provider events, in flagkit's words).
StatusKind = Literal["ready", "stale", "error", "recovered", "changed"]


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A change in a client's health or flags, for ``Client.on_status`` listeners.

    ``ready``: the client has flags for the first time (a listener added later
    hears it at once, as OpenFeature's handlers do). ``changed``: a new
    snapshot changed flags (``change`` says which). ``error``: a refresh
    failed after one succeeded, once per failure streak (``on_error`` hears
    every failure). ``recovered``: the first successful refresh after a
    failure streak. ``stale``: the flags went ``stale_after`` seconds
    without a successful refresh (once per streak).
    """

    kind: StatusKind
    error: str | None = None
    change: ChangeEvent | None = None
