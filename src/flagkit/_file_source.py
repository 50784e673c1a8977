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
import threading
from collections.abc import Callable

from flagkit import _forking
from flagkit._build import snapshot_from_bytes
from flagkit._errors import FlagkitError, SourceError
from flagkit._loader import Format, format_of, read_bytes
from flagkit._source import SnapshotSink, Source

__all__ = ["FileSource"]

_Signature = tuple[int, int, int]


class FileSource(Source):
    """Load a JSON, TOML or YAML flag file; with ``watch=True``, reload on change."""

    kind = "file"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        syntax: Format | None = None,
        watch: bool = False,
        interval: float = 1.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(os.fspath(path))
        self.syntax = syntax or format_of(self.origin)
        self.watch = watch
        self.interval = interval
        self._eval_clock = clock
        self._signature: _Signature | None = None
        self._digest = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The first load is synchronous and strict: a client must not start
        # on a file it cannot read.
        self._load(raise_errors=True)
        _forking.register(self)

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client and, when watching, start the poller."""
        super().start(sink)
        if self.watch:
            self._start_thread()

    def _start_thread(self) -> None:
        if self._thread is None and not self._closed:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._poll, name=f"flagkit-file:{self.origin}", daemon=True
            )
            self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def check(self) -> bool:
        """Reload now if the file changed; return True when new flags went live."""
        try:
            signature = _signature_of(self.origin)
        except OSError as exc:
            if self._signature is not None:  # report a vanished file once
                self._signature = None
                self.reject(FlagkitError(f"{self.origin}: cannot read: {exc.strerror or exc}"))
            return False
        if signature == self._signature:
            self.mark_success()
            return False
        return self._load(raise_errors=False)

    def _load(self, *, raise_errors: bool) -> bool:
        try:
            # Stat first: if the file changes between the stat and the read,
            # the next poll sees a new signature and reads it again.
            signature = _signature_of(self.origin)
            data = read_bytes(self.origin)
            digest = hashlib.sha256(data).hexdigest()
            self._signature = signature
            if digest == self._digest:
                self.mark_success()  # touched, not changed: no recompile
                return False
            snapshot = snapshot_from_bytes(
                data, self.syntax, origin=self.origin, clock=self._eval_clock
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
        self._digest = digest
        self.accept(snapshot, "file")
        return True

    def close(self) -> None:
        """Stop watching and join the poller thread."""
        super().close()
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def after_fork_in_child(self) -> None:
        """Restart the poller in a forked child (the parent's thread is gone)."""
        super().after_fork_in_child()
        self._thread = None
        if self.watch and self._sink is not None and not self._closed:
            self._start_thread()


def _signature_of(path: str) -> _Signature:
    stat = os.stat(path)
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)
