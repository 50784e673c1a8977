"""A flag file as a source, optionally watched for changes.

Watching polls the file's modification time, size and inode on a daemon
thread: no extra dependency, and it works on every filesystem (including
the atomic rename editors and config tools use). A change whose content
hash equals the live one costs no recompile; a malformed change keeps the
last good snapshot and is reported.
"""

from __future__ import annotations

import hashlib
import os

from flagkit._definitions.parse import read_bytes, syntax_of
from flagkit._errors import FlagkitError, SourceError
from flagkit._sources import forking
from flagkit._sources.base import SnapshotSink, Source
from flagkit._sources.pipeline import (
    check_document_format,
    check_flagd_hashing,
    snapshot_from_bytes,
)
from flagkit._sources.poller import PollingThread
from flagkit._types import Clock, DocumentFormat, FlagdHashing, Syntax

__all__ = ["FileSource"]

_Signature = tuple[int, int, int]


class FileSource(Source):
    """Load a JSON, TOML or YAML flag file; with ``watch=True``, reload on change.

    ``format`` says what the file means: ``"native"`` (flagkit's format),
    ``"flagd"`` (a flagd flag-definition document) or ``"auto"`` (detected
    from the content, on every load).
    """

    kind = "file"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        syntax: Syntax | None = None,
        format: DocumentFormat = "native",
        watch: bool = False,
        interval: float = 1.0,
        clock: Clock | None = None,
        flagd_hashing: FlagdHashing = "v2",
    ) -> None:
        super().__init__(os.fspath(path))
        self.syntax = syntax or syntax_of(self.origin)
        self.format = check_document_format(format)
        self.flagd_hashing = check_flagd_hashing(flagd_hashing)
        self.watch = watch
        self.interval = interval
        self._eval_clock = clock
        self._signature: _Signature | None = None  # of the file last loaded or confirmed
        self._broken: _Signature | None = None  # of a file that failed to load
        self._digest = ""
        self._poller = PollingThread(
            f"flagkit-file:{self.origin}", self._poll, first_delay=self.interval
        )
        # The first load is synchronous and strict: a client must not start
        # on a file it cannot read.
        self._load(raise_errors=True)
        forking.register(self)

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client and, when watching, start the poller."""
        super().start(sink)
        if self.watch and not self._closed:
            self._poller.start()

    def _poll(self) -> float:
        self.check()
        return self.interval

    def check(self) -> bool:
        """Reload now if the file changed; return True when new flags went live."""
        try:
            signature = _signature_of(self.origin)
        except OSError as exc:
            if self._signature is not None or self._broken is not None:  # report it once
                self._signature = self._broken = None
                self.reject(SourceError(f"{self.origin}: cannot read: {exc.strerror or exc}"))
            return False
        if signature == self._signature:
            self.mark_success()
            return False
        if signature == self._broken:  # still the file that failed: no success, no new report
            return False
        return self._load(raise_errors=False)

    def _load(self, *, raise_errors: bool) -> bool:
        try:
            # Stat first: if the file changes between the stat and the read,
            # the next poll sees a new signature and reads it again.
            signature = _signature_of(self.origin)
            self._broken = signature  # until it loads
            data = read_bytes(self.origin)
            digest = hashlib.sha256(data).hexdigest()
            if digest != self._digest:
                snapshot = snapshot_from_bytes(
                    data,
                    self.syntax,
                    format=self.format,
                    origin=self.origin,
                    clock=self._eval_clock,
                    flagd_hashing=self.flagd_hashing,
                )
        except Exception as exc:  # any failure keeps the last good flags and is reported
            if isinstance(exc, FlagkitError):
                error: FlagkitError = exc
            elif isinstance(exc, OSError):
                error = SourceError(f"{self.origin}: cannot read: {exc.strerror or exc}")
            else:
                error = SourceError(f"{self.origin}: {type(exc).__name__}: {exc}")
            if raise_errors:
                if error is exc:
                    raise
                raise error from exc
            self.reject(error)
            return False
        self._signature, self._broken = signature, None
        if digest == self._digest:
            self.mark_success()  # touched, not changed: no recompile
            return False
        self._digest = digest
        self.accept(snapshot, "file")
        return True

    def close(self) -> None:
        """Stop watching and join the poller thread."""
        super().close()
        self._poller.stop()

    def after_fork_in_child(self) -> None:
        """Restart the poller in a forked child (the parent's thread is gone)."""
        super().after_fork_in_child()
        self._poller.after_fork_in_child()
        if self.watch and self._sink is not None and not self._closed:
            self._poller.start()


def _signature_of(path: str) -> _Signature:
    stat = os.stat(path)
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)
