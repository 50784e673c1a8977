"""Keep flagkit's own polls out of httpx's and httpcore's logs.

httpx logs every request at INFO with its full URL (``HTTP Request: GET
https://user:password@host/flags.json?X-Amz-Signature=... "HTTP/1.1 304"``),
and httpcore logs connection details and response headers (a redirect's
``Location`` may be a pre-signed URL) at DEBUG. A flag source polls every
few seconds, forever: that is a stream of noise at INFO, and of secrets at
any level.

flagkit does not change those loggers' levels or handlers (the
application's own httpx logging stays as it configured it). It adds one
filter to each, which drops a record only while a flagkit poll is on the
stack: a ContextVar, set around each exchange, marks the thread or asyncio
task that is polling. flagkit logs its own line per poll instead, at DEBUG,
with the URL in its public form (``_sources.http_guards.public_form``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["install", "polling"]

#: Every logger httpx and httpcore write to (httpcore names one per module).
QUIETED_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

_polling: ContextVar[bool] = ContextVar("flagkit_polling", default=False)
_installed = False
_install_lock = threading.Lock()


class _DropFlagkitPolls(logging.Filter):
    """Drop records emitted while a flagkit poll runs in this thread or task."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _polling.get()


def install() -> None:
    """Add the filter to httpx's and httpcore's loggers, once per process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        quiet = _DropFlagkitPolls("flagkit")
        for name in QUIETED_LOGGERS:
            logging.getLogger(name).addFilter(quiet)
        _installed = True


@contextlib.contextmanager
def polling() -> Iterator[None]:
    """Mark the current thread or task as running a flagkit poll for the block."""
    token = _polling.set(True)
    try:
        yield
    finally:
        _polling.reset(token)
