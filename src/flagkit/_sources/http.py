"""Flags fetched over HTTP(S) and kept fresh by polling.

``HTTPSource`` polls on one daemon thread; ``AsyncHTTPSource`` polls in one
task on the running event loop. Everything that is not I/O lives in
``_HTTPPolling`` and serves both: request headers, response checks, the size
limit, parsing, the last-known-good cache, back-off and status.

One poll, in order:

1. A GET with ``If-None-Match`` / ``If-Modified-Since`` from the last
   accepted response (RFC 9110 §13). A 304 confirms the live flags and costs
   no parsing.
2. A 200 is checked (content type, declared length), then its body is read
   raw and decoded here, so the size limit applies to the *decoded* bytes
   and a gzip bomb is refused after at most ``max_bytes`` of output.
3. A body whose hash equals the live document's costs no recompile; a new
   one is parsed with the source's format, published, then persisted.
4. Any failure (transport, status, type, size, syntax, validation) keeps
   the live snapshot, is recorded in ``status()``, and is retried after
   the back-off delay (see ``_sources.backoff`` and docs/sources.md: by
   default one interval, so a fleet converges soon after an outage).

The whole exchange, headers included, runs under one deadline
(``_sources.deadline``); httpx's and httpcore's log records of flagkit's
polls are dropped (``_sources.quiet_http``), and flagkit logs its own line
per poll, at DEBUG, without secrets.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import random
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from flagkit._core.snapshot import Snapshot
from flagkit._errors import FlagkitError, SourceError
from flagkit._sources import forking
from flagkit._sources.backoff import Backoff, jittered, parse_retry_after
from flagkit._sources.base import SnapshotSink, Source
from flagkit._sources.cache_file import read_cache, remove_stale_temp_files, write_cache
from flagkit._sources.deadline import watchdog
from flagkit._sources.http_guards import (
    BodyReader,
    OriginHeaders,
    auth_headers,
    public_form,
    redact,
    ssl_context,
)
from flagkit._sources.pipeline import (
    check_document_format,
    check_flagd_hashing,
    snapshot_from_bytes,
    snapshot_from_data,
    snapshot_from_file,
)
from flagkit._sources.poller import PollingThread
from flagkit._sources.quiet_http import install as quiet_httpx_logs
from flagkit._sources.quiet_http import polling
from flagkit._types import Clock, DocumentFormat, FlagdHashing

if TYPE_CHECKING:  # httpx and asyncio load with the first HTTP source, not with flagkit
    import asyncio

    import httpx

__all__ = ["AsyncHTTPSource", "HTTPOptions", "HTTPSource", "parser_for"]

logger = logging.getLogger("flagkit")

Bootstrap = str | os.PathLike[str] | Mapping[str, Any] | Snapshot
Parser = Callable[[bytes], Snapshot]

#: Content types accepted by default (every format travels as JSON); an
#: entry starting with ``+`` is a structured-syntax suffix (RFC 6839).
JSON_CONTENT_TYPES = ("application/json", "+json")
_RETRY_AFTER_STATUSES = frozenset({429, 503})
#: httpcore's trace events whose return value is a new connection's stream.
_NEW_STREAM_EVENTS = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


def parser_for(
    fmt: DocumentFormat,
    *,
    origin: str,
    clock: Clock | None,
    flagd_hashing: FlagdHashing = "v2",
) -> Parser:
    """Return the function that turns a fetched JSON document into a snapshot."""
    return functools.partial(
        snapshot_from_bytes,
        syntax="json",
        format=check_document_format(fmt),
        origin=origin,
        clock=clock,
        flagd_hashing=check_flagd_hashing(flagd_hashing),
    )


class _RetryLater(SourceError):
    """The server asked us to come back later (429 / 503)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HTTPOptions(TypedDict, total=False):
    """The options of ``HTTPSource`` (and ``Client.from_url``); see docs/sources.md."""

    interval: float
    jitter: float
    backoff_base: float | None
    backoff_cap: float | None
    connect_timeout: float
    read_timeout: float
    max_bytes: int
    max_redirects: int
    content_types: Iterable[str] | None
    format: DocumentFormat
    flagd_hashing: FlagdHashing
    bootstrap: Bootstrap | None
    cache_path: str | os.PathLike[str] | None
    stale_after: float | None
    bearer_token: str | None
    api_key: str | None
    api_key_header: str
    headers: Mapping[str, str] | None
    verify: bool | str | os.PathLike[str]
    lazy: bool


class _HTTPPolling(Source):
    """What the thread and asyncio variants share: everything but the I/O."""

    kind = "http"

    def __init__(
        self,
        url: str,
        *,
        interval: float = 30.0,
        jitter: float = 0.1,
        backoff_base: float | None = None,
        backoff_cap: float | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_bytes: int = 4 * 1024 * 1024,
        max_redirects: int = 3,
        content_types: Iterable[str] | None = None,
        format: DocumentFormat = "native",
        flagd_hashing: FlagdHashing = "v2",
        bootstrap: Bootstrap | None = None,
        cache_path: str | os.PathLike[str] | None = None,
        stale_after: float | None = None,
        bearer_token: str | None = None,
        api_key: str | None = None,
        api_key_header: str = "X-API-Key",
        headers: Mapping[str, str] | None = None,
        verify: bool | str | os.PathLike[str] = True,
        lazy: bool = False,
        clock: Clock | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, not {interval!r}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {jitter!r}")
        import httpx

        self._url = httpx.URL(url)
        super().__init__(public_form(self._url))
        self.format = check_document_format(format)
        self.interval = interval
        self.jitter = jitter
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.stale_after = stale_after
        self.lazy = lazy
        self.content_types = tuple(JSON_CONTENT_TYPES if content_types is None else content_types)
        self.cache_path = None if cache_path is None else os.fspath(cache_path)
        self.flagd_hashing = check_flagd_hashing(flagd_hashing)
        self._parse = parser_for(
            format, origin=self.origin, clock=clock, flagd_hashing=self.flagd_hashing
        )
        self._eval_clock = clock
        self._rng = random.Random()
        # A failed poll is retried after one interval by default: a failing
        # server sees exactly the traffic of a healthy one, and when it comes
        # back every process is at most one interval away from it (a delay
        # grown past the interval would keep the fleet split for as long).
        # The server sheds load with Retry-After, which wins. docs/sources.md.
        self._backoff = Backoff(
            base=interval if backoff_base is None else backoff_base,
            cap=interval if backoff_cap is None else backoff_cap,
            jitter=jitter,
            rng=self._rng,
        )
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        # One deadline for the whole exchange (connect, headers and body).
        self._poll_deadline = connect_timeout + 2 * read_timeout
        self._exchange_deadline = float("inf")
        self._verify = ssl_context(verify)
        self._headers, credentials, self._secrets = auth_headers(
            self._url, bearer_token, api_key, api_key_header, headers
        )
        self._credentials = OriginHeaders(self._url, credentials)
        self._etag: str | None = None
        self._last_modified: str | None = None
        self._digest = ""
        self._started_at = time.monotonic()
        self._network_ok_at: float | None = None
        quiet_httpx_logs()
        self._load_initial(bootstrap)
        self._init_io()

    def _init_io(self) -> None:
        """Create what the I/O variant needs (clients, events, locks)."""

    # -- start-up without the network ------------------------------------------

    def _load_initial(self, bootstrap: Bootstrap | None) -> None:
        """Serve the bootstrap, else the cached copy, else nothing (callers' defaults)."""
        if self.cache_path is not None:
            remove_stale_temp_files(self.cache_path)
        if bootstrap is not None:
            snapshot = _bootstrap_snapshot(
                bootstrap, self.format, self._eval_clock, self.flagd_hashing
            )
            self.accept(snapshot, "bootstrap", refreshed=False)
            return
        if self.cache_path is None:
            return
        data = read_cache(self.cache_path, max_bytes=self.max_bytes)
        if data is None:
            return
        try:
            snapshot = self._parse(data)
        except FlagkitError as exc:
            logger.warning("flagkit: cache %s is corrupt, ignoring it: %s", self.cache_path, exc)
            return
        self._digest = _digest(data)
        self.accept(snapshot, "cache", refreshed=False)

    # -- one poll, minus the I/O -------------------------------------------------

    def _client_options(self, *, asynchronous: bool = False) -> dict[str, Any]:
        hook = self._credentials.asynchronous if asynchronous else self._credentials
        return {
            "headers": self._headers,
            "event_hooks": {"request": [hook]},
            "timeout": self._timeout,
            "verify": self._verify,
            "follow_redirects": True,
            "max_redirects": self.max_redirects,
        }

    def _conditional_headers(self) -> dict[str, str]:
        """Return the validators of the live document (RFC 9110 §13.1)."""
        headers = {}
        if self._etag is not None:
            headers["If-None-Match"] = self._etag
        if self._last_modified is not None:
            headers["If-Modified-Since"] = self._last_modified
        return headers

    def _begin(self, response: httpx.Response) -> BodyReader:
        """Check a response's status and headers; return the reader of its body.

        Even a 304's (empty) body is read to its end: a response left unread
        closes its connection, and every poll would pay a new TCP handshake.
        A 304 to a request that revalidated nothing (no ETag or date sent:
        the first poll, or one after a bootstrap or a cached copy) confirms
        nothing and is an error, not a success.
        """
        status = response.status_code
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("flagkit: %s %s: HTTP %d", self.kind, self.origin, status)
        if status == 304:
            sent = response.request.headers
            if "If-None-Match" not in sent and "If-Modified-Since" not in sent:
                raise SourceError(
                    f"{self.origin}: HTTP 304 to a request that revalidated nothing "
                    "(no ETag or Last-Modified was sent); a server bug or a broken cache"
                )
            return BodyReader(encoding="", limit=0, label=self.origin, document=False)
        if status in _RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            raise _RetryLater(f"{self.origin}: HTTP {status}", retry_after)
        if status != 200:
            raise SourceError(f"{self.origin}: HTTP {status}")
        self._check_content_type(response.headers.get("Content-Type", ""))
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(f"{self.origin}: body larger than {self.max_bytes} bytes; refused")
        return BodyReader(
            encoding=response.headers.get("Content-Encoding", "").strip().lower(),
            limit=self.max_bytes,
            label=self.origin,
            # read_timeout bounds each read; the exchange's deadline bounds
            # the whole, so a server dripping bytes cannot hold close() hostage.
            deadline=self._exchange_deadline,
            closed=lambda: self._closed,
        )

    def _check_content_type(self, header: str) -> None:
        if not self.content_types:
            return
        media_type = header.split(";", 1)[0].strip().lower()
        for accepted in self.content_types:
            if media_type == accepted or (accepted[0] == "+" and media_type.endswith(accepted)):
                return
        raise SourceError(
            f"{self.origin}: content type {media_type or '(none)'!r} is not one of "
            f"{', '.join(self.content_types)}; fix the server or pass content_types="
        )

    def _apply(self, headers: httpx.Headers, body: bytes) -> None:
        """Make a fetched document live unless it is the live one; persist it."""
        digest = _digest(body)
        if digest != self._digest and not self._closed:  # a poll may outlive close()
            snapshot = self._parse(body)  # DefinitionError carries the full report
            self._digest = digest
            self.accept(snapshot, "network")
            self._persist(body)
        self._etag = headers.get("ETag")
        self._last_modified = headers.get("Last-Modified")

    def _persist(self, body: bytes) -> None:
        if self.cache_path is None:
            return
        try:
            write_cache(self.cache_path, body)
        except OSError as exc:  # the flags are live; only the copy is missing
            logger.warning("flagkit: cannot write cache %s: %s", self.cache_path, exc)

    def _succeeded(self) -> float:
        """Record a poll that confirmed or changed the flags; return the next delay."""
        with self._state_lock:
            if self._snapshot is not None:
                self._live = "network"
            self._network_ok_at = time.monotonic()
        self.mark_success()
        self._backoff.reset()
        self._became_ready()
        return self.scheduled(jittered(self.interval, self.jitter, self._rng))

    def _failed(self, exc: Exception) -> float:
        """Record a failed poll (the live snapshot stays); return the back-off delay."""
        if not self._closed:  # a poll that outlives close() reports nothing
            self.reject(self._translate(exc))
            self.report_if_stale()
        retry_after = exc.retry_after if isinstance(exc, _RetryLater) else None
        return self.scheduled(self._backoff.next_delay(retry_after))

    def _overdue(self) -> SourceError:
        """Return the error of an exchange the deadline aborted."""
        return SourceError(
            f"{self.origin}: the response took too long: not complete within "
            f"{self._poll_deadline:g} s (connect_timeout + 2 x read_timeout); aborted"
        )

    def _translate(self, exc: Exception) -> FlagkitError:
        """Turn any failure into a FlagkitError whose text holds no secret."""
        import httpx

        if isinstance(exc, httpx.TooManyRedirects):
            message = f"{self.origin}: more than {self.max_redirects} redirects"
        elif isinstance(exc, httpx.TimeoutException):
            message = f"{self.origin}: timed out ({type(exc).__name__})"
        elif isinstance(exc, httpx.HTTPError):
            message = f"{self.origin}: {type(exc).__name__}: {exc}"
        elif isinstance(exc, FlagkitError):
            if not any(secret in str(exc) for secret in self._secrets):
                return exc
            message = str(exc)
        else:  # a bug in a parser must not kill the poller
            message = f"{self.origin}: unexpected {type(exc).__name__}: {exc}"
        return SourceError(redact(message, self._secrets))

    def _became_ready(self) -> None:
        """Wake whoever waits for the first successful poll."""

    # -- status ---------------------------------------------------------------

    def is_stale(self) -> bool:
        """Return True once ``stale_after`` seconds passed without a successful poll."""
        if self.stale_after is None:
            return False
        since = self._network_ok_at if self._network_ok_at is not None else self._started_at
        return time.monotonic() - since > self.stale_after

    def __repr__(self) -> str:
        return (
            f"<flagkit.{type(self).__name__} {self.origin} live={self._live} "
            f"interval={self.interval}>"
        )


class HTTPSource(_HTTPPolling):
    """Poll a URL for a flag document on one daemon thread.

    Construction never touches the network: the source serves ``bootstrap``
    (a path, a document or a Snapshot), else the copy at ``cache_path``,
    else nothing, until the first poll succeeds. ``wait_until_ready`` blocks
    for those who want to. With ``lazy=True`` the thread starts on first use
    (an evaluation, ``wait_until_ready``) instead of at once, so a process
    that only forks workers never polls. See docs/sources.md for every option.
    """

    def _init_io(self) -> None:
        self._http = self._new_client()
        # The sockets of this source's connections, learnt from httpcore's
        # trace events, so an overdue exchange can be aborted from outside.
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._ready = threading.Event()
        self._poll_lock = threading.Lock()
        self._activate_lock = threading.Lock()
        self._activated = False
        # The first poll goes out at once; later delays come from _poll().
        self._poller = PollingThread(f"flagkit-http:{self.origin}", self._poll, first_delay=0.0)
        forking.register(self)

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client and start polling in the background (unless ``lazy``)."""
        super().start(sink)
        if not self.lazy:
            self.activate()

    def _new_client(self) -> httpx.Client:
        import httpx

        return httpx.Client(**self._client_options())

    @property
    def deferred(self) -> bool:
        """Return True while a ``lazy`` source waits for its first use to start polling."""
        return not self._activated and not self._closed

    def activate(self) -> None:
        """Start the polling thread (once; a no-op before ``start`` or after ``close``)."""
        with self._activate_lock:
            if self._activated or self._closed or self._sink is None:
                return
            self._activated = True
            self.scheduled(self._poller.first_delay)
            self._poller.start()

    def poll(self) -> bool:
        """Poll once now; return True when new flags went live."""
        before = self._snapshot
        self._poll()
        return self._snapshot is not before

    def _poll(self) -> float:
        with self._poll_lock:
            self._exchange_deadline = time.monotonic() + self._poll_deadline
            alarm = watchdog.arm(self._exchange_deadline, self._abort_exchange)
            try:
                with polling():
                    self._exchange()
            except Exception as exc:
                return self._failed(self._overdue() if alarm.fired else exc)
            finally:
                alarm.cancel()
            return self._succeeded()

    def _exchange(self) -> None:
        headers = self._conditional_headers()
        extensions = {"trace": self._trace}
        with self._http.stream(
            "GET", self._url, headers=headers, extensions=extensions
        ) as response:
            body = self._begin(response)
            for chunk in response.iter_raw():
                body.feed(chunk)
            body.finish()
            if body.document:
                self._apply(response.headers, body.read())

    def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        """Remember the socket of every connection httpcore opens for this source."""
        if event in _NEW_STREAM_EVENTS:
            stream = info.get("return_value")
            sock = None if stream is None else stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                self._sockets.add(sock)

    def _abort_exchange(self) -> None:
        """Shut this source's sockets down (on the watchdog's thread): the blocked read fails.

        ``shutdown`` wakes a thread blocked in ``recv`` at once (``close``
        would not), and takes no lock another thread may hold. The pool then
        finds the connection dead and opens a new one for the next poll.
        """
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _became_ready(self) -> None:
        self._ready.set()

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until a poll has succeeded once; return False if ``timeout`` ran out.

        Counts as first use: a ``lazy`` source starts polling.
        """
        self.activate()
        return self._ready.wait(timeout)

    def close(self) -> None:
        """Stop polling, join the thread and close the connections; idempotent.

        A poll in flight is not interrupted: close() waits for it, at most the
        exchange's deadline (connect_timeout + 2 x read_timeout), and its
        result is dropped.
        """
        super().close()
        self._poller.stop()
        with polling():
            self._http.close()

    def after_fork_in_child(self) -> None:
        """Restart polling in a forked child with a connection pool of its own.

        The parent's pool is abandoned, never closed: its poller thread may
        have held the pool's lock at the moment of the fork, and no thread in
        the child will ever release it, so ``close()`` would hang the child
        for good. Nothing here touches an object whose lock another thread
        may have held; the abandoned client's sockets (the child's copies of
        the parent's descriptors) are closed when it is collected, which
        takes no lock. The parent keeps using its own connections.
        """
        super().after_fork_in_child()
        # Every child inherits the parent's generator: reseed, or all workers
        # would draw the same jitter and poll (and back off) in lock-step.
        self._rng.seed()
        self._poller.first_delay = self._rng.uniform(0, self.interval)
        self._poll_lock = threading.Lock()
        self._activate_lock = threading.Lock()
        was_ready, self._ready = self._ready.is_set(), threading.Event()
        if was_ready:
            self._ready.set()
        self._poller.after_fork_in_child()
        self._http = self._new_client()
        self._sockets = weakref.WeakSet()
        if self._activated and self._sink is not None and not self._closed:
            self.scheduled(self._poller.first_delay)
            self._poller.start()


class AsyncHTTPSource(_HTTPPolling):
    """Poll a URL for a flag document in one task on the running event loop.

    Create it anywhere, even at import time with no loop running: the task
    starts on the first use inside a running loop (an evaluation, ``await
    source.wait_until_ready(timeout)``, ``source.activate()``), e.g. in a
    framework's lifespan hook. ``wait_until_ready`` blocks the caller, not
    the loop; ``await source.aclose()`` stops it. Parsing a changed document
    runs in a worker thread so the loop stays responsive. Evaluation is
    synchronous and never waits, as with every source.
    """

    def _init_io(self) -> None:
        import asyncio

        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client; start polling now if a loop runs here (and not ``lazy``)."""
        super().start(sink)
        if not self.lazy:
            self.activate()

    @property
    def deferred(self) -> bool:
        """Return True until the polling task runs on a live loop."""
        return not self._closed and not self._running()

    def _running(self) -> bool:
        loop = self._loop
        return self._task is not None and loop is not None and not loop.is_closed()

    def activate(self) -> None:
        """Start the polling task on the running loop; a no-op outside one, or when running."""
        if self._closed or self._sink is None or self._running():
            return
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop in this thread: the first use inside one starts it
        if self._loop is not None:  # the previous loop ended: a new one takes over
            was_ready, self._ready = self._ready.is_set(), asyncio.Event()
            if was_ready:
                self._ready.set()
        self._loop = loop
        self.scheduled(0.0)
        self._task = loop.create_task(self._run(), name=f"flagkit-http:{self.origin}")

    async def _run(self) -> None:
        import asyncio

        import httpx

        with polling():  # the task's context: every httpx record of it is flagkit's
            async with httpx.AsyncClient(**self._client_options(asynchronous=True)) as http:
                delay = 0.0
                while True:
                    await asyncio.sleep(delay)
                    delay = await self._poll(http)

    async def _poll(self, http: httpx.AsyncClient) -> float:
        import asyncio

        self._exchange_deadline = time.monotonic() + self._poll_deadline
        try:
            async with asyncio.timeout(self._poll_deadline):
                await self._exchange(http)
        except TimeoutError:
            return self._failed(self._overdue())
        except Exception as exc:
            return self._failed(exc)
        return self._succeeded()

    async def _exchange(self, http: httpx.AsyncClient) -> None:
        import asyncio

        headers = self._conditional_headers()
        async with http.stream("GET", self._url, headers=headers) as response:
            body = self._begin(response)
            async for chunk in response.aiter_raw():
                body.feed(chunk)
            body.finish()
            if body.document:
                await asyncio.to_thread(self._apply, response.headers, body.read())

    def _became_ready(self) -> None:
        self._ready.set()

    async def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait until a poll has succeeded once; return False if ``timeout`` ran out.

        Counts as first use: it starts the polling task on this loop.
        """
        import asyncio

        self.activate()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Cancel the polling task (its connections close as it ends); idempotent."""
        super().close()
        task, loop = self._task, self._loop
        if task is None or loop is None or task.done():
            return
        import asyncio

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task.cancel()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)

    async def aclose(self) -> None:
        """Stop polling and wait until the task and its connections are gone."""
        import asyncio

        self.close()
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bootstrap_snapshot(
    bootstrap: Bootstrap, fmt: DocumentFormat, clock: Clock | None, hashing: FlagdHashing
) -> Snapshot:
    if isinstance(bootstrap, Snapshot):
        return bootstrap
    if isinstance(bootstrap, Mapping):
        return snapshot_from_data(
            bootstrap, format=fmt, origin="<bootstrap>", clock=clock, flagd_hashing=hashing
        )
    return snapshot_from_file(bootstrap, format=fmt, clock=clock, flagd_hashing=hashing)
