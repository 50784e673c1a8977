"""The client: typed getters, details, toggle points, hooks, events, status.

The typed getters are the hot path. With nothing observing (no hooks, no
exposure log, no client context, no override), a getter reads the live
evaluator table (one attribute: a reload swaps it atomically), looks the
flag up, runs its generated evaluator and returns a value: no locks, no
logging, no allocation on the common paths. Anything observing switches
the getters to the observed pipeline (``observed.evaluate``), which is
also what details, ``variant_of`` and ``all_flags`` run. Either way,
problems become the caller's default, never an exception.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypedDict, TypeVar, Unpack

from flagkit._client import overrides
from flagkit._client.changes import ChangeEvent, StatusEvent, describe_change, diff_snapshots
from flagkit._client.context import UnusableContext, current_context, merge_contexts
from flagkit._client.counters import MAX_KEY_CHARS, Counters, CountKey, label_of, shown_key
from flagkit._client.decorators import ContextFactory, dispatch, feature
from flagkit._client.errorlog import ErrorLog, NearMatches
from flagkit._client.exposure import ExposureLog, ExposureSink, as_sink
from flagkit._client.getters import Getters
from flagkit._client.guards import Guards, GuardStatus, GuardTrip
from flagkit._client.hooks import Hook
from flagkit._client.observed import error_details, evaluate, read_all
from flagkit._client.outcomes import OutcomeKey, Outcomes, OutcomeTotals
from flagkit._client.overrides import ClientOverride, Overrides, OverrideScope
from flagkit._client.toggles import Toggle
from flagkit._client.tracking import event_name, event_value, track
from flagkit._client.variants import view_of, view_of_details
from flagkit._core.details import DISABLED_VARIANT, Details, ErrorCode, Variant
from flagkit._core.snapshot import EMPTY, Snapshot, ValueType
from flagkit._errors import Problem
from flagkit._sources import forking
from flagkit._sources.base import HealthEvent, Source, SourceStatus
from flagkit._sources.file import FileSource
from flagkit._sources.http import HTTPOptions, HTTPSource
from flagkit._sources.memory import MemorySource
from flagkit._sources.unleash import UnleashSource
from flagkit._types import Clock, ContextLike, DocumentFormat, FlagdHashing, PathLike, Syntax

if TYPE_CHECKING:
    from flagkit._client.exposure import Event

__all__ = ["Client", "ClientOptions", "ClientStatus", "URLOptions"]

logger = logging.getLogger("flagkit")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
SinkLike = ExposureSink | Callable[[Sequence["Event"]], object] | str | os.PathLike[str]


class ClientOptions(TypedDict, total=False):
    """What every client constructor takes besides its source (see ``Client``)."""

    context: ContextLike | None
    hooks: Iterable[Hook]
    exposures: SinkLike | ExposureLog | None
    counters: bool
    outcomes: bool
    guard_interval: float
    name: str


class URLOptions(HTTPOptions, ClientOptions, total=False):
    """``Client.from_url``'s options: the HTTP source's and the client's."""


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """Which flags are live, where they came from, and how healthy the source is.

    ``healthy`` answers a health check: the client has flags, is open, its
    latest refresh did not fail, and its flags are not stale. ``last_error``
    describes the failure streak in progress (None once a refresh succeeds
    again); ``last_poll_ok``, ``consecutive_failures``, ``next_poll_at``
    and ``last_success_at`` come from the source (see ``SourceStatus``).
    """

    ready: bool
    origin: str
    live: str
    revision: str
    loaded_at: float | None
    flags: int
    last_error: str | None
    last_error_at: float | None
    stale: bool
    closed: bool
    source: SourceStatus | None
    #: Flags of the live snapshot that were refused (ERROR/PARSE_ERROR, or their last good).
    refused: tuple[str, ...] = ()
    #: Every problem found in the live document, located (the refused flags' and others).
    problems: tuple[Problem, ...] = ()
    last_poll_ok: bool | None = None
    consecutive_failures: int = 0
    next_poll_at: float | None = None
    last_success_at: float | None = None

    @property
    def healthy(self) -> bool:
        """Return True when the client serves fresh flags and its last refresh succeeded."""
        return self.ready and not self.closed and self.last_poll_ok is not False and not self.stale

    #: Every guarded rollout: state, trip and evidence (docs/monitoring.md).
    guards: tuple[GuardStatus, ...] = ()

    def error_age(self, now: float | None = None) -> float | None:
        """Return the seconds since the last error, or None."""
        if self.last_error_at is None:
            return None
        return (time.time() if now is None else now) - self.last_error_at


class Client(Getters):
    """Evaluate feature flags from a snapshot that a source keeps up to date.

    ``Client.from_file("flags.yaml")`` is the usual start; ``from_dict`` takes
    a document in memory, ``from_url`` polls one over HTTP; ``Client(source)``
    takes any source. Every constructor takes the client's options
    (``ClientOptions``): a ``context`` merged under each call's, ``hooks``,
    an ``exposures`` sink, ``counters``, ``outcomes`` (record every toggle
    point's outcomes, not only guarded flags'), ``guard_interval`` (seconds
    between guard checks), and a ``name``.
    """

    def __init__(
        self,
        source: Source | Snapshot | Mapping[str, Any] | None = None,
        *,
        context: ContextLike | None = None,
        hooks: Iterable[Hook] = (),
        exposures: SinkLike | ExposureLog | None = None,
        counters: bool = False,
        outcomes: bool = False,
        guard_interval: float = 0.1,
        name: str = "flagkit",
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._snapshot: Snapshot = EMPTY
        self._source_snapshot: Snapshot = EMPTY
        self._tables = EMPTY.evaluators
        self._client_context: ContextLike = dict(context or {})
        self._hooks: tuple[Hook, ...] = tuple(hooks)
        self._counters = Counters() if counters else None
        self._exposures = (
            None
            if exposures is None
            else exposures
            if isinstance(exposures, ExposureLog)
            else ExposureLog(as_sink(exposures))
        )
        self._guard_interval = guard_interval
        self._guards = Guards(self._outcome_store, self._republish)
        self._guards.client_name = name
        self._outcomes: Outcomes | None = None
        if outcomes:
            self._outcomes = self._outcome_store(every_flag=True)
        self._overrides = Overrides()
        self._change_listeners: list[Callable[[ChangeEvent], object]] = []
        self._error_listeners: list[Callable[[Exception], object]] = []
        self._status_listeners: list[Callable[[StatusEvent], object]] = []
        self._announced_ready = False
        self._errors = ErrorLog()
        self._near = NearMatches()  # FLAG_NOT_FOUND's messages, per snapshot
        # Keys whose fast-path miss was logged for this snapshot: a repeat costs one lookup.
        self._misses_logged: set[str] = set()
        self._publish_lock = threading.RLock()
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._closed = False
        self._observed = False
        self._deferred = False
        if source is None:
            source = MemorySource(clock=clock)
        elif isinstance(source, Snapshot):
            source = MemorySource(source)
        elif not isinstance(source, Source):
            source = MemorySource(source, clock=clock)
        self._source: Source = source
        overrides.register_client(self)
        forking.register(self)
        source.start(self)
        # A source waiting for first use keeps the client off its fast path
        # until then: the observed path starts it (no cost once started).
        self._deferred = source.deferred
        self._refresh_mode()

    # -- construction -------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: PathLike,
        *,
        syntax: Syntax | None = None,
        format: DocumentFormat = "native",
        watch: bool = False,
        interval: float = 1.0,
        clock: Clock | None = None,
        flagd_hashing: FlagdHashing = "v2",
        **options: Unpack[ClientOptions],
    ) -> Client:
        """Load a flag file (JSON, TOML or YAML); ``watch=True`` reloads it on change.

        ``format="flagd"`` reads a flagd flag-definition document, and
        ``format="auto"`` tells the two apart by content; ``flagd_hashing``
        is how its ``fractional`` hashes (``"v2"``, or flagd-core 2.0's ``"v3"``).
        """
        source = FileSource(
            path,
            syntax=syntax,
            format=format,
            watch=watch,
            interval=interval,
            clock=clock,
            flagd_hashing=flagd_hashing,
        )
        return cls(source, clock=clock, **options)

    @classmethod
    def from_dict(
        cls,
        document: Mapping[str, Any],
        *,
        format: DocumentFormat = "native",
        clock: Clock | None = None,
        flagd_hashing: FlagdHashing = "v2",
        **options: Unpack[ClientOptions],
    ) -> Client:
        """Validate and compile a flag document held in memory (native, flagd or auto)."""
        source = MemorySource(document, format=format, clock=clock, flagd_hashing=flagd_hashing)
        return cls(source, clock=clock, **options)

    @classmethod
    def from_url(
        cls, url: str, *, clock: Clock | None = None, **options: Unpack[URLOptions]
    ) -> Client:
        """Poll a flag document over HTTP(S): the HTTP source's options and the client's."""
        given: dict[str, Any] = dict(options)
        mine = {key: given.pop(key) for key in ClientOptions.__optional_keys__ if key in given}
        return cls(HTTPSource(url, clock=clock, **given), clock=clock, **mine)

    @classmethod
    def from_unleash(
        cls,
        url: str,
        *,
        token: str | None,
        app_name: str,
        clock: Clock | None = None,
        **options: Any,
    ) -> Client:
        """Follow an Unleash server (``UnleashSource``'s options and the client's).

        Counting is on, so the server receives usage metrics; see docs/unleash.md.
        """
        mine = {key: options.pop(key) for key in ClientOptions.__optional_keys__ if key in options}
        mine.setdefault("counters", True)
        source = UnleashSource(url, token=token, app_name=app_name, clock=clock, **options)
        return cls(source, clock=clock, **mine)

    # -- the snapshot -------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """Return the live snapshot."""
        return self._snapshot

    @property
    def source(self) -> Source:
        """Return the source feeding this client."""
        return self._source

    def flag_keys(self) -> list[str]:
        """Return the keys of every flag in the live snapshot."""
        return list(self._snapshot.flags)

    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` live (sources call this) and tell change and status listeners.

        A change after the first load is logged at INFO, in one line.
        """
        with self._publish_lock:
            previous = self._snapshot
            self._source_snapshot = snapshot
            live = self._guards.sync(snapshot)  # tripped guards stay tripped
            self._tables = live.evaluators
            self._snapshot = live
            self._near.clear()
            self._misses_logged = set()
            # The diff digests every flag: compute it only when someone hears it.
            heard = self._change_listeners or self._status_listeners
            wanted = heard or logger.isEnabledFor(logging.INFO)
            event = diff_snapshots(previous, live) if wanted else None
            if event:
                _notify(self._change_listeners, event, "change")
            if not self._announced_ready:
                self._announced_ready = True
                logger.debug(
                    "flagkit: %d flags live from %s (revision %s)",
                    len(snapshot.flags),
                    snapshot.origin,
                    snapshot.revision,
                )
                _notify(self._status_listeners, StatusEvent("ready"), "status")
            elif event:
                logger.info(
                    "flagkit: flags changed from %s (revision %s): %s",
                    snapshot.origin,
                    snapshot.revision,
                    describe_change(event),
                )
                _notify(self._status_listeners, StatusEvent("changed", change=event), "status")

    def report_error(self, error: Exception) -> None:
        """Record a failed load (sources call this) and tell error listeners."""
        self._last_error = str(error)
        self._last_error_at = time.time()
        _notify(self._error_listeners, error, "error")

    def report_health(self, event: HealthEvent, error: Exception | None) -> None:
        """Hear a change of the source's health (sources call this); tell status listeners."""
        if event == "recovered":
            self._last_error = self._last_error_at = None
        _notify(
            self._status_listeners,
            StatusEvent(event, error=None if error is None else str(error)),
            "status",
        )

    def on_change(self, listener: Callable[[ChangeEvent], object]) -> Callable[[], None]:
        """Call ``listener(event)`` once per change of flags; return an unsubscribe function."""
        self._change_listeners.append(listener)
        return lambda: self._change_listeners.remove(listener)

    def on_error(self, listener: Callable[[Exception], object]) -> Callable[[], None]:
        """Call ``listener(error)`` when a reload fails; return an unsubscribe function."""
        self._error_listeners.append(listener)
        return lambda: self._error_listeners.remove(listener)

    def on_status(self, listener: Callable[[StatusEvent], object]) -> Callable[[], None]:
        """Call ``listener(event)`` on ready, changed, error, recovered and stale events.

        A listener added once the client is ready hears ``ready`` at once.
        Return an unsubscribe function.
        """
        self._status_listeners.append(listener)
        if self._announced_ready:
            _notify([listener], StatusEvent("ready"), "status")
        return lambda: self._status_listeners.remove(listener)

    def status(self) -> ClientStatus:
        """Return which snapshot is live, where from, how old, and the last error."""
        snapshot = self._snapshot
        source = self._source.status()
        return ClientStatus(
            ready=snapshot is not EMPTY and source.ready,
            origin=snapshot.origin,
            live=source.live,
            revision=snapshot.revision,
            loaded_at=snapshot.loaded_at or None,
            flags=len(snapshot.flags),
            last_error=source.last_error or self._last_error,
            last_error_at=source.last_error_at or self._last_error_at,
            stale=source.stale,
            closed=self._closed,
            source=source,
            refused=tuple(sorted(snapshot.refused)),
            problems=snapshot.problems,
            last_poll_ok=source.last_poll_ok,
            consecutive_failures=source.consecutive_failures,
            next_poll_at=source.next_poll_at,
            last_success_at=source.last_success_at,
            guards=self._guards.statuses(),
        )

    # -- evaluation -----------------------------------------------------------

    def variant_of(self, flag_key: str, context: ContextLike | None = None) -> str | None:
        """Return the variant ``flag_key`` serves for ``context`` (None on any problem)."""
        details: Details = evaluate(self, flag_key, None, context, None, details=True)
        return details.variant

    def get_variant(self, flag_key: str, context: ContextLike | None = None) -> Variant:
        """Return the variant ``flag_key`` serves, as Unleash's ``get_variant`` reports it.

        The variant's name (``"disabled"`` when none is served), whether a
        variant was served, whether the flag is on, and the variant's
        payload. Never raises: any problem is the disabled variant.
        """
        if self._observed:
            return self._observed_variant(flag_key, context)
        try:
            flag = self._snapshot.flags.get(flag_key)
            if flag is None:
                if self._counters is not None:
                    self._counters.add_error(flag_key, ErrorCode.FLAG_NOT_FOUND)
                return DISABLED_VARIANT
            if context is None:
                context = current_context()
                if context.__class__ is UnusableContext:  # set_context got something unusable
                    return self._observed_variant(flag_key, None)
            elif context.__class__ is not dict and not isinstance(context, Mapping):
                return self._observed_variant(flag_key, context)
            constant = flag.constant
            resolution = constant if constant is not None else flag.evaluate_fast(context)[0]
            if self._counters is not None:
                self._counters.add(resolution)
            view = resolution.view
            return view if view is not None else view_of(resolution)
        except Exception:  # a hostile key or context: the observed path reports it
            return self._observed_variant(flag_key, context)

    def _observed_variant(self, flag_key: str, context: Any) -> Variant:
        details: Details = evaluate(self, flag_key, None, context, None, details=True)
        try:
            return view_of_details(self._snapshot.flags.get(details.flag_key), details)
        except Exception:  # pragma: no cover - a hostile key; never raise
            return DISABLED_VARIANT

    def all_flags(self, context: ContextLike | None = None) -> dict[str, Details]:
        """Return the details of every flag for one context (e.g. for a front end).

        Overrides apply; hooks, counters and exposure events do not (this is
        a bulk read, not a use of each flag). Every flag comes from the same
        snapshot, even during a reload.
        """
        snapshot = self._snapshot
        try:  # merge the context once, not once per flag
            prepared = self._context_for(context)
        except Exception:  # each flag's evaluation reports it
            prepared = None
        # Keys as exact strings (a foreign document held in memory may have
        # str subclasses as keys); evaluate() itself never raises.
        read = read_all(self, snapshot.flags, context, snapshot, prepared)
        return {label_of(key): details for key, details in read}

    def _context_for(
        self, context: ContextLike | None
    ) -> tuple[Mapping[str, Any] | None, str | None]:
        """Return the effective context (the client's under the call's or the scoped one).

        ``(None, why)`` when the given (or scoped) context cannot be used.
        """
        if context is None:
            context = current_context()
            if type(context) is UnusableContext:
                return None, context.reason
        elif not isinstance(context, Mapping):  # as the fast path checks it (may raise)
            return None, f"the context is not a mapping but a {type(context).__name__}"
        return merge_contexts(self._client_context, context), None

    def _fail(
        self, flag_key: str, default: Any, code: ErrorCode, message: str | None = None
    ) -> Details:
        """Count, log and return an evaluation that failed with ``code``: the caller's default."""
        if code is ErrorCode.FLAG_NOT_FOUND and message is None:
            message = self._not_found(flag_key)
        if self._counters is not None:
            self._counters.add_error(flag_key, code)
        self._errors.report(flag_key, code, message)
        return error_details(flag_key, default, code, message)

    def _missed(
        self, flag_key: str, default: Any, context: ContextLike | None, value_type: ValueType
    ) -> Any:
        """Count and log a fast-path miss, once per key unless counters are on.

        An unknown key is FLAG_NOT_FOUND (with near matches); a flag that
        never serves this type resolves through the observed path, which
        counts what it serves this time (a disabled or default outcome, or
        TYPE_MISMATCH) and logs an error once. So does a key that is not an
        exact string (the observed path reports it as one). The keys
        remembered are bounded in number and length: keys come from callers.
        """
        if type(flag_key) is not str or flag_key in self._snapshot.flags:
            return evaluate(self, flag_key, default, context, value_type, details=False)
        if len(flag_key) <= MAX_KEY_CHARS and len(self._misses_logged) < 4096:
            self._misses_logged.add(flag_key)
        code = ErrorCode.FLAG_NOT_FOUND
        if self._counters is not None:
            self._counters.add_error(flag_key, code)
        if not self._errors.logged(flag_key, code):  # a repeat builds no message
            self._errors.report(flag_key, code, self._not_found(flag_key))
        return default

    def _resolved_with_error(self, flag_key: str, code: ErrorCode, message: str | None) -> None:
        """Log an evaluation whose flag resolved to an error (e.g. TARGETING_KEY_MISSING)."""
        self._errors.report(flag_key, code, message)

    def _not_found(self, flag_key: str) -> str:
        """Return FLAG_NOT_FOUND's message, naming the live keys closest to ``flag_key``."""
        return self._near.message(flag_key, self._snapshot.flags)

    # -- toggle points ----------------------------------------------------------

    def feature(
        self,
        flag_key: str,
        *,
        fallback: Callable[P, R],
        context: ContextFactory | None = None,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorate the new implementation; ``fallback`` runs when the flag is off."""
        return feature(self, flag_key, fallback=fallback, context=context)

    def dispatch(
        self,
        flag_key: str,
        implementations: Mapping[str, Callable[P, R]],
        *,
        fallback: Callable[P, R],
        context: ContextFactory | None = None,
    ) -> Callable[P, R]:
        """Return a function calling the implementation of the served variant."""
        return dispatch(self, flag_key, implementations, fallback=fallback, context=context)

    def toggle(self, flag_key: str, default: Any, context: ContextLike | None = None) -> Toggle:
        """Return a toggle point for a ``with`` block: ``served.value``, ``served.variant``.

        The block's wall time, and whether it raised (the exception
        propagates), are recorded for the served variant when the client
        records the flag's outcomes (a guarded flag, or ``outcomes=True``).
        """
        return Toggle(self, flag_key, default, context)

    # -- outcomes, tracking and guards -------------------------------------------

    def track(
        self,
        event_name: str,
        context: ContextLike | None = None,
        value: float | None = None,
        **attributes: Any,
    ) -> None:
        """Record that ``event_name`` happened for ``context``; never raises.

        OpenFeature's tracking API: the event is attributed to the variants
        the same context is served by experiments and by guarded flags
        watching events, fed to their guards, and sent to the exposure sink.
        """
        track(self, event_name, context, value, attributes)

    def record_error(self, flag_key: str, context: ContextLike | None = None) -> None:
        """Record an error of the variant ``flag_key`` serves ``context``, found elsewhere.

        For failures a toggle point cannot see (a bad result noticed later,
        an error in a callback); the call itself was counted by the toggle
        point. Never raises.
        """
        self._record(flag_key, context, None, 0.0)

    def record_value(
        self, flag_key: str, name: str, value: float, context: ContextLike | None = None
    ) -> None:
        """Record a value measured elsewhere for the variant ``flag_key`` serves ``context``.

        It counts as an occurrence of the tracked event ``name`` for this flag
        alone (a guard's ``event_rate`` and ``event_mean`` metrics read it).
        Never raises.
        """
        self._record(flag_key, context, name, value)

    def _record(
        self, flag_key: str, context: ContextLike | None, name: str | None, value: float
    ) -> None:
        try:
            outcomes = self._outcomes
            if outcomes is None or not outcomes.records(flag_key):
                return
            details: Details = evaluate(
                self, flag_key, None, context, None, details=True, record=False
            )
            if details.variant is None:
                return
            key = details.flag_key  # the key as an exact string, as counters keep it
            if name is None:
                outcomes.record_error(key, details.variant)
            else:  # name and value read by value, as ``track`` reads them
                event, number = event_name(name), event_value(value)
                if event is not None and number is not None:
                    outcomes.record_event(key, details.variant, event, float(number))
        except Exception:  # recording must never break the caller
            logger.debug(
                "flagkit: recording an outcome of %r failed", shown_key(flag_key), exc_info=True
            )

    def outcomes(self) -> dict[OutcomeKey, OutcomeTotals]:
        """Return the outcomes toggle points recorded, per (flag, variant)."""
        return {} if self._outcomes is None else self._outcomes.totals()

    def on_guard(self, listener: Callable[[GuardTrip], object]) -> Callable[[], None]:
        """Call ``listener(trip)`` when a guard trips (after it acted); return an unsubscribe.

        Listeners run on the thread whose toggle point found the regression:
        hand slow work (turning the flag off at its source) to another thread.
        """
        self._guards.listeners.append(listener)
        return lambda: self._guards.listeners.remove(listener)

    def reset_guard(self, flag_key: str) -> bool:
        """Untrip ``flag_key``'s guard and start its samples over; False if it has none."""
        return self._guards.reset(flag_key)

    def check_guards(self) -> list[GuardTrip]:
        """Run every guard's test now (it also runs by itself); return the new trips."""
        return self._guards.check()

    def _outcome_store(self, *, every_flag: bool = False) -> Outcomes:
        """Return the outcome store, created on first need (a guarded flag, or outcomes=True)."""
        outcomes = self._outcomes
        if outcomes is None:
            outcomes = Outcomes(every_flag=every_flag, interval=self._guard_interval)
            outcomes.on_due = self._guards.check
            self._outcomes = outcomes
        return outcomes

    def _republish(self) -> None:
        """Make the source's snapshot live again with the guards' trips applied."""
        with self._publish_lock:
            live = self._guards.apply(self._source_snapshot)
            self._tables = live.evaluators
            self._snapshot = live

    # -- observing ------------------------------------------------------------

    def add_hook(self, hook: Hook) -> None:
        """Run ``hook`` around every evaluation from now on."""
        self._hooks = (*self._hooks, hook)
        self._refresh_mode()

    def remove_hook(self, hook: Hook) -> None:
        """Stop running ``hook`` (added with ``add_hook`` or at construction)."""
        self._hooks = tuple(h for h in self._hooks if h is not hook)
        self._refresh_mode()

    @property
    def counting(self) -> bool:
        """Return True when this client counts its evaluations (``counters=True``)."""
        return self._counters is not None

    def counters(self) -> dict[CountKey, int]:
        """Return evaluation counts per (flag, variant, reason, error code)."""
        return {} if self._counters is None else self._counters.snapshot()

    def reset_counters(self) -> None:
        """Forget the evaluation counts."""
        if self._counters is not None:
            self._counters.reset()

    @property
    def exposures(self) -> ExposureLog | None:
        """Return the exposure log, when exposure events are on."""
        return self._exposures

    def override(self, values: Mapping[str, Any], *, local: bool = False) -> OverrideScope:
        """Force flags to values or variant names for a block (``with``) or a function (decorator).

        By default every thread sees the overrides; ``local=True`` limits them
        to the current thread or asyncio task (and tasks it starts). Either
        way they apply to this client only.
        """
        return ClientOverride(self, values, local=local)

    def _refresh_mode(self) -> None:
        with overrides.mode_lock:
            self._observed = bool(
                self._hooks
                or self._exposures is not None
                or self._client_context
                or self._overrides.any_active()
                or self._deferred
            )

    def _activate(self) -> None:
        """Start a source that waited for first use (the observed path calls this)."""
        self._source.activate()
        if not self._source.deferred:
            self._deferred = False
            self._refresh_mode()

    def after_fork_in_child(self) -> None:
        """Replace the client's locks in a forked child (their holders may be gone)."""
        self._publish_lock = threading.RLock()
        self._guards.after_fork_in_child()

    # -- lifecycle --------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Deliver queued exposure events; return False if ``timeout`` ran out."""
        return True if self._exposures is None else self._exposures.flush(timeout)

    def close(self) -> None:
        """Stop every thread this client started and deliver queued events."""
        if self._closed:
            return
        self._closed = True
        self._source.close()
        if self._exposures is not None:
            self._exposures.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        snapshot = self._snapshot
        return f"<flagkit.Client {self.name!r} {len(snapshot.flags)} flags from {snapshot.origin}>"


def _notify(listeners: list[Callable[[Any], object]], event: Any, kind: str) -> None:
    """Call every listener with ``event``; one that raises is logged and skipped."""
    for listener in list(listeners):
        try:
            listener(event)
        except Exception:
            logger.warning("flagkit: %s listener %r raised", kind, listener, exc_info=True)
