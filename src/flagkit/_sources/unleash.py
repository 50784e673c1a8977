"""Follow an Unleash server (or Unleash Edge): its features, registration and usage metrics.

``UnleashSource`` *is* an ``HTTPSource``: it polls
``<url>/client/features`` through the shared HTTP polling base, so it has
everything that source guarantees (ETag / ``If-None-Match``, jittered
back-off and ``Retry-After``, the size limit, bootstrap and the
last-known-good cache, a start that never blocks and ``wait_until_ready``,
``stale_after``, fork safety, credentials kept to their origin and out of
logs). It adds what an Unleash client owes its server:

* the headers Unleash reads: the client token as ``Authorization``,
  ``UNLEASH-APPNAME``, ``UNLEASH-INSTANCEID``, ``UNLEASH-CONNECTION-ID`` and
  ``UNLEASH-SDK``;
* registration (``POST <url>/client/register``), once, before the first
  poll, retried on the next poll until it succeeds;
* usage metrics (``POST <url>/client/metrics``) every ``metrics_interval``:
  yes/no counts per feature and counts per variant, taken from the
  client's own evaluation counters (``Client(..., counters=True)``), so the
  getters do nothing more than they already do. Metrics that cannot be
  sent are kept (at most ``max_pending_buckets`` intervals, the oldest
  merged away first) and sent with the next interval; sending never
  blocks an evaluation and never raises.

``AsyncUnleashSource`` does the same in tasks on the running event loop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from flagkit._core.snapshot import Snapshot
from flagkit._sources.base import SnapshotSink
from flagkit._sources.http import AsyncHTTPSource, HTTPOptions, HTTPSource
from flagkit._sources.poller import PollingThread
from flagkit._types import Clock

if TYPE_CHECKING:  # httpx and asyncio load with the first HTTP source, not with flagkit
    import asyncio

    import httpx

__all__ = ["AsyncUnleashSource", "UnleashSource", "metrics_bucket"]

logger = logging.getLogger("flagkit")

SDK_NAME = "flagkit"
SDK_VERSION = "0.1.0"
#: The strategies flagkit implements (sent at registration).
STRATEGIES = (
    "default",
    "userWithId",
    "flexibleRollout",
    "gradualRolloutUserId",
    "gradualRolloutSessionId",
    "gradualRolloutRandom",
    "remoteAddress",
    "applicationHostname",
)
#: The variants that are flagkit's own names for "no variant" (not Unleash variants).
_NO_VARIANT = frozenset({None, "enabled", "disabled"})

#: A client's ``counters()``: counts keyed by (flag_key, variant, reason, error_code).
CountsReader = Callable[[], Mapping[Any, int]]


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat().replace("+00:00", "Z")


def metrics_bucket(counts: Mapping[Any, int]) -> dict[str, dict[str, Any]]:
    """Return Unleash's ``toggles`` of a metrics bucket from evaluation counts.

    A count is a "yes" when the evaluation served the feature on (any
    variant but flagkit's ``"disabled"``) and a "no" otherwise (off, or an
    error such as an unknown feature); a served Unleash variant is also
    counted under its name.
    """
    toggles: dict[str, dict[str, Any]] = {}
    for key, count in counts.items():
        if count <= 0:
            continue
        entry = toggles.setdefault(key.flag_key, {"yes": 0, "no": 0, "variants": {}})
        on = key.error_code is None and key.variant not in (None, "disabled")
        entry["yes" if on else "no"] += count
        if key.error_code is None and key.variant not in _NO_VARIANT:
            variants = entry["variants"]
            variants[key.variant] = variants.get(key.variant, 0) + count
    return toggles


class _Reporting:
    """What both variants share: identity headers, registration and metric buckets.

    Listed before the HTTP source in each variant's bases, so its hooks run
    first and hand on to the HTTP base with ``super()``.
    """

    _parse: Callable[[bytes], Snapshot]
    _unleash_clock: Clock | None
    origin: str

    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        app_name: str,
        instance_id: str | None = None,
        environment: str | None = None,
        metrics_interval: float = 60.0,
        max_pending_buckets: int = 10,
        disable_metrics: bool = False,
        disable_registration: bool = False,
        clock: Clock | None = None,
        **options: Unpack[HTTPOptions],
    ) -> None:
        self._init_reporting(
            url=url,
            app_name=app_name,
            instance_id=instance_id,
            environment=environment,
            metrics_interval=metrics_interval,
            max_pending_buckets=max_pending_buckets,
            disable_metrics=disable_metrics,
            disable_registration=disable_registration,
        )
        self._unleash_clock = clock
        # On to the HTTP source (the next class in the variant's bases).
        super().__init__(  # type: ignore[call-arg]
            self.api_url + "/client/features",
            clock=clock,
            **_http_options(token, options),
        )

    # -- the HTTP base's hooks -------------------------------------------------

    def _load_initial(self, bootstrap: Any) -> None:
        # Features are compiled with the static context (appName, environment).
        self._parse = _unleash_parser(
            self.app_name, self.environment, self.origin, self._unleash_clock
        )
        if isinstance(bootstrap, Mapping):
            bootstrap = self._parse(json.dumps(bootstrap).encode())
        elif isinstance(bootstrap, str | os.PathLike):
            with open(bootstrap, "rb") as handle:
                bootstrap = self._parse(handle.read())
        super()._load_initial(bootstrap)  # type: ignore[misc]

    def _client_options(self, *, asynchronous: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = super()._client_options(  # type: ignore[misc]
            asynchronous=asynchronous
        )
        options["headers"] = {**options["headers"], **self._identity_headers()}
        return options

    def _init_reporting(
        self,
        *,
        url: str,
        app_name: str,
        instance_id: str | None,
        environment: str | None,
        metrics_interval: float,
        max_pending_buckets: int,
        disable_metrics: bool,
        disable_registration: bool,
    ) -> None:
        if not metrics_interval > 0:
            raise ValueError(f"metrics_interval must be positive, not {metrics_interval!r}")
        self.api_url = url.rstrip("/")
        self.app_name = app_name
        self.instance_id = instance_id or f"flagkit-{platform.node()}-{uuid.uuid4().hex[:8]}"
        self.environment = environment
        self.metrics_interval = metrics_interval
        self.max_pending_buckets = max(1, max_pending_buckets)
        self.disable_metrics = disable_metrics
        self.disable_registration = disable_registration
        self.connection_id = str(uuid.uuid4())
        self._started = time.time()
        self._registered = disable_registration
        self._bucket_start = self._started
        self._last_counts: Counter[Any] = Counter()
        # Buckets not yet accepted by the server: (start, stop, toggles).
        self._pending: deque[tuple[float, float, dict[str, dict[str, Any]]]] = deque()
        self._counts: CountsReader | None = None
        self.metrics_sent = 0
        self.metrics_failed = 0
        self.metrics_dropped = 0

    def _identity_headers(self) -> dict[str, str]:
        return {
            "UNLEASH-APPNAME": self.app_name,
            "UNLEASH-INSTANCEID": self.instance_id,
            "UNLEASH-CONNECTION-ID": self.connection_id,
            "UNLEASH-SDK": f"{SDK_NAME}:{SDK_VERSION}",
            "User-Agent": f"{SDK_NAME}/{SDK_VERSION} ({self.app_name})",
        }

    def _attach_counts(self, sink: SnapshotSink) -> None:
        counts = getattr(sink, "counters", None)
        if self.disable_metrics or not callable(counts):
            return
        if getattr(sink, "counting", True) is False:
            logger.warning(
                "flagkit: Unleash metrics need the client's counters; create the client with "
                "counters=True (Client.from_unleash does); no metrics will be sent"
            )
            return
        self._counts = counts
        self._last_counts = Counter(counts())

    def _base_body(self) -> dict[str, Any]:
        return {
            "appName": self.app_name,
            "instanceId": self.instance_id,
            "connectionId": self.connection_id,
            "sdkVersion": f"{SDK_NAME}:{SDK_VERSION}",
            "platformName": platform.python_implementation(),
            "platformVersion": platform.python_version(),
            "specVersion": "5.2.0",
        }

    def _registration_body(self) -> dict[str, Any]:
        return {
            **self._base_body(),
            "strategies": list(STRATEGIES),
            "started": _iso(self._started),
            "interval": int(self.metrics_interval * 1000),
        }

    def _take_bucket(self) -> None:
        """Move the counts since the last bucket into the pending buckets (bounded)."""
        if self._counts is None:
            return
        now = time.time()
        current = Counter(self._counts())
        delta = current - self._last_counts
        self._last_counts = current
        start, self._bucket_start = self._bucket_start, now
        toggles = metrics_bucket(delta)
        if not toggles:
            return
        self._pending.append((start, now, toggles))
        while len(self._pending) > self.max_pending_buckets:
            # Merge the two oldest: counts are kept, only their timing coarsens.
            first_start, _, first = self._pending.popleft()
            _, second_stop, second = self._pending.popleft()
            self._pending.appendleft((first_start, second_stop, _merge(first, second)))
            self.metrics_dropped += 1

    def _metrics_body(self) -> dict[str, Any] | None:
        """Return every pending bucket merged into one request body, or None."""
        if not self._pending:
            return None
        start = self._pending[0][0]
        stop = self._pending[-1][1]
        toggles: dict[str, dict[str, Any]] = {}
        for _, _, bucket in self._pending:
            toggles = _merge(toggles, bucket)
        return {
            **self._base_body(),
            "bucket": {"start": _iso(start), "stop": _iso(stop), "toggles": toggles},
        }

    def _sent(self, count: int) -> None:
        for _ in range(count):
            self._pending.popleft()
        self.metrics_sent += 1

    def _reset_after_fork(self) -> None:
        """Start the child's metrics afresh: the parent reports what it counted."""
        self._pending.clear()
        self.connection_id = str(uuid.uuid4())
        if self._counts is not None:
            self._last_counts = Counter(self._counts())
        self._bucket_start = time.time()

    def metrics_status(self) -> dict[str, int]:
        """Return metric delivery counters: sent requests, failures, pending and merged buckets."""
        return {
            "sent": self.metrics_sent,
            "failed": self.metrics_failed,
            "pending": len(self._pending),
            "merged": self.metrics_dropped,
        }


def _merge(
    first: Mapping[str, dict[str, Any]], second: Mapping[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    merged = {name: {**entry, "variants": dict(entry["variants"])} for name, entry in first.items()}
    for name, entry in second.items():
        target = merged.setdefault(name, {"yes": 0, "no": 0, "variants": {}})
        target["yes"] += entry["yes"]
        target["no"] += entry["no"]
        for variant, count in entry["variants"].items():
            target["variants"][variant] = target["variants"].get(variant, 0) + count
    return merged


def _unleash_parser(
    app_name: str, environment: str | None, origin: str, clock: Clock | None
) -> Callable[[bytes], Snapshot]:
    # Imported here: the Unleash compiler is only loaded by those who use it.
    from flagkit._sources.pipeline import check_document_format
    from flagkit.formats.unleash import snapshot_from_unleash

    check_document_format("unleash")

    def parse(body: bytes) -> Snapshot:
        from flagkit._definitions.parse import parse_bytes

        raw = parse_bytes(body, "json", source=origin)
        return snapshot_from_unleash(
            raw,
            origin=origin,
            revision=_revision(raw),
            clock=clock,
            app_name=app_name,
            environment=environment,
        )

    return parse


def _revision(raw: Any) -> str:
    meta = raw.get("meta") if isinstance(raw, Mapping) else None
    revision = meta.get("revisionId") if isinstance(meta, Mapping) else None
    return "" if revision is None else str(revision)


class UnleashOptions(HTTPOptions, total=False):
    """The options of ``UnleashSource`` (and ``Client.from_unleash``) besides its own."""


def _http_options(token: str | None, options: Mapping[str, Any]) -> dict[str, Any]:
    given = dict(options)
    headers = dict(given.pop("headers", None) or {})
    if token is not None:
        headers["Authorization"] = token
    given["headers"] = headers
    given.setdefault("interval", 15.0)
    given["format"] = "unleash"
    return given


class UnleashSource(_Reporting, HTTPSource):
    """Follow an Unleash server's features on one daemon thread; report usage back.

    ``url`` is the API base, as Unleash SDKs take it
    (``https://unleash.example.com/api``, or an Unleash Edge's
    ``http://edge:3063/api``); ``token`` a client (backend) token. The
    HTTP source's options apply (``interval`` defaults to 15 s, as in
    Unleash's SDKs); see docs/unleash.md.
    """

    kind = "unleash"

    def _init_io(self) -> None:
        super()._init_io()
        self._report_lock = threading.Lock()
        self._metrics = PollingThread(
            f"flagkit-unleash-metrics:{self.app_name}",
            self._report,
            first_delay=self.metrics_interval,
        )

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client, start polling, and start sending metrics."""
        self._attach_counts(sink)
        super().start(sink)
        if not self._closed and self._counts is not None:
            self._metrics.start()

    def _poll(self) -> float:
        if not self._registered and not self._closed:
            self._register()
        return super()._poll()

    # -- registration and metrics --------------------------------------------------

    def _register(self) -> None:
        try:
            response = self._http.post(
                self.api_url + "/client/register", json=self._registration_body()
            )
            self._registered = response.status_code < 300
            if not self._registered:
                logger.warning(
                    "flagkit: Unleash registration refused: HTTP %d", response.status_code
                )
        except Exception as exc:  # retried on the next poll
            logger.warning("flagkit: Unleash registration failed: %s", self._translate(exc))

    def _report(self) -> float:
        """Send the metrics gathered since the last interval (and any still pending)."""
        with self._report_lock:
            try:
                self._take_bucket()
                body = self._metrics_body()
                if body is not None:
                    count = len(self._pending)
                    response = self._http.post(self.api_url + "/client/metrics", json=body)
                    if response.status_code < 300:
                        self._sent(count)
                    else:
                        self.metrics_failed += 1
                        logger.warning(
                            "flagkit: Unleash metrics refused: HTTP %d (kept, retried)",
                            response.status_code,
                        )
            except Exception as exc:  # never raise from the metrics thread
                self.metrics_failed += 1
                logger.warning(
                    "flagkit: sending Unleash metrics failed (kept, retried): %s",
                    self._translate(exc),
                )
        return self.metrics_interval

    def flush_metrics(self) -> bool:
        """Send the metrics gathered so far now; return True when none are left pending."""
        self._report()
        return not self._pending

    def close(self) -> None:
        """Stop polling and reporting; send the last metrics (best effort); idempotent."""
        if self._closed:
            return
        self._metrics.stop()
        if self._counts is not None:
            self._report()
        super().close()

    def after_fork_in_child(self) -> None:
        """Restart polling and reporting in a forked child."""
        super().after_fork_in_child()
        self._report_lock = threading.Lock()
        self._reset_after_fork()
        self._metrics.after_fork_in_child()
        if self._sink is not None and not self._closed and self._counts is not None:
            self._metrics.start()


class AsyncUnleashSource(_Reporting, AsyncHTTPSource):
    """``UnleashSource`` in tasks on the running event loop (see ``AsyncHTTPSource``)."""

    kind = "unleash"

    def _init_io(self) -> None:
        super()._init_io()
        self._metrics_task: asyncio.Task[None] | None = None

    def start(self, sink: SnapshotSink) -> None:
        """Attach the client and start the polling and metrics tasks on the running loop."""
        self._attach_counts(sink)
        super().start(sink)
        if self._loop is not None and self._counts is not None and self._metrics_task is None:
            self._metrics_task = self._loop.create_task(
                self._report_forever(), name=f"flagkit-unleash-metrics:{self.app_name}"
            )

    async def _poll(self, http: httpx.AsyncClient) -> float:
        if not self._registered and not self._closed:
            try:
                response = await http.post(
                    self.api_url + "/client/register", json=self._registration_body()
                )
                self._registered = response.status_code < 300
            except Exception as exc:  # retried on the next poll
                logger.warning("flagkit: Unleash registration failed: %s", self._translate(exc))
        return await super()._poll(http)

    async def _report_forever(self) -> None:
        import asyncio

        import httpx

        async with httpx.AsyncClient(**self._client_options(asynchronous=True)) as http:
            while True:
                await asyncio.sleep(self.metrics_interval)
                await self._report(http)

    async def _report(self, http: httpx.AsyncClient) -> None:
        try:
            self._take_bucket()
            body = self._metrics_body()
            if body is None:
                return
            count = len(self._pending)
            response = await http.post(self.api_url + "/client/metrics", json=body)
            if response.status_code < 300:
                self._sent(count)
            else:
                self.metrics_failed += 1
        except Exception as exc:  # never raise from the metrics task
            self.metrics_failed += 1
            logger.warning("flagkit: sending Unleash metrics failed: %s", self._translate(exc))

    async def flush_metrics(self) -> bool:
        """Send the metrics gathered so far now; return True when none are left pending."""
        import httpx

        async with httpx.AsyncClient(**self._client_options(asynchronous=True)) as http:
            await self._report(http)
        return not self._pending

    def close(self) -> None:
        """Cancel the polling and metrics tasks; idempotent."""
        task, self._metrics_task = self._metrics_task, None
        if task is not None and not task.done():
            with contextlib.suppress(RuntimeError):
                task.cancel()
        super().close()
