"""The last-known-good copy of a fetched document, kept on disk.

Writes are atomic (a temporary file in the same directory, fsync, then
``os.replace``), so several processes may share one path: a reader sees a
whole old copy or a whole new one, and the last writer wins. Reading never
raises: a missing, unreadable or oversized cache is logged and ignored, so a
broken cache can never stop an application from starting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile

from flagkit._definitions.parse import read_regular_file

__all__ = ["read_cache", "write_cache"]

logger = logging.getLogger("flagkit")


def read_cache(path: str, *, max_bytes: int) -> bytes | None:
    """Return the cached document's bytes, or None (with a warning) when unusable."""
    try:
        # A regular file only, opened non-blocking: a FIFO or a device at the
        # cache path must not block the source's constructor.
        return read_regular_file(path, max_bytes)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("flagkit: cache %s is unreadable, ignoring it: %s", path, exc)
        return None


def write_cache(path: str, data: bytes) -> None:
    """Replace the cache at ``path`` with ``data`` atomically; raise OSError on failure."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".flagkit-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            # mkstemp creates 0600; keep the mode readers of the cache rely on.
            os.fchmod(handle.fileno(), _mode_for(path))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _mode_for(path: str) -> int:
    """Return the existing cache's permissions, or rw-r--r-- for a new file.

    (Reading the umask means setting it, process-wide and racy; not worth it.)
    """
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o644
