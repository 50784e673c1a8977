"""What changed between two snapshots, for listeners."""

from __future__ import annotations

from dataclasses import dataclass

from flagkit._core.snapshot import Snapshot

__all__ = ["ChangeEvent", "diff_snapshots"]


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
    # Digests, not compiled flags: a lazily compiled snapshot answers without compiling.
    modified = frozenset(
        k for k in new if k in old and previous.fingerprint(k) != current.fingerprint(k)
    )
    return ChangeEvent(added, removed, modified, previous, current)
