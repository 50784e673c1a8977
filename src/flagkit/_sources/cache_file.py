"""The last-known-good copy of a fetched document, kept on disk.

Writes are atomic (a temporary file in the same directory, fsync, then
``os.replace``), so several processes may share one path: a reader sees a
whole old copy or a whole new one, and the last writer wins. A process
killed between creating its temporary file and the rename leaves it
behind; temporary files carry an unmistakable name
(``.flagkit-tmp.<cache name>.<random>``), and ``remove_stale_temp_files``,
run when a source starts, removes those of its cache older than
``STALE_TEMP_AGE`` (younger ones may belong to a live writer). Reading never
raises: a missing, unreadable or oversized cache is logged and ignored, so a
broken cache can never stop an application from starting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time

__all__ = ["STALE_TEMP_AGE", "read_cache", "remove_stale_temp_files", "write_cache"]

logger = logging.getLogger("flagkit")

#: Seconds after which a temporary file nobody renamed is an orphan: a write
#: takes milliseconds, so this leaves a live writer on a slow disk alone.
STALE_TEMP_AGE = 600.0
_TEMP_PREFIX = ".flagkit-tmp."
#: What releases before 0.2 named their temporary files (mkstemp's 8 characters).
_OLD_TEMP_NAME = re.compile(r"\.flagkit-[a-z0-9_]{8}\.tmp")


def read_cache(path: str, *, max_bytes: int) -> bytes | None:
    """Return the cached document's bytes, or None (with a warning) when unusable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("flagkit: cache %s is unreadable, ignoring it: %s", path, exc)
        return None
    if len(data) > max_bytes:
        logger.warning("flagkit: cache %s is larger than %d bytes, ignoring it", path, max_bytes)
        return None
    return data


def write_cache(path: str, data: bytes) -> None:
    """Replace the cache at ``path`` with ``data`` atomically; raise OSError on failure."""
    directory, name = os.path.split(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{name}.", suffix=".tmp", dir=directory)
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


def remove_stale_temp_files(path: str, *, now: float | None = None) -> list[str]:
    """Remove orphaned temporary files of the cache at ``path``; return their names.

    Only files named by ``write_cache`` for this cache (or by older releases'
    ``.flagkit-XXXXXXXX.tmp``) and untouched for ``STALE_TEMP_AGE`` seconds
    go; nothing else in the directory is looked at twice. Never raises.
    """
    directory, name = os.path.split(os.path.abspath(path))
    mine = f"{_TEMP_PREFIX}{name}."
    cutoff = (time.time() if now is None else now) - STALE_TEMP_AGE
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        ours = (entry.name.startswith(mine) and entry.name.endswith(".tmp")) or bool(
            _OLD_TEMP_NAME.fullmatch(entry.name)
        )
        if not ours:
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:  # gone already, or not ours to remove
            continue
    if removed:
        logger.info(
            "flagkit: removed %d orphaned temporary file(s) beside cache %s", len(removed), path
        )
    return removed
