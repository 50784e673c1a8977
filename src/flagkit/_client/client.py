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
from flagkit._client.changes import ChangeEvent, diff_snapshots
from flagkit._client.context import UnusableContext, current_context, merge_contexts
from flagkit._client.counters import Counters, CountKey, label_of
from flagkit._client.decorators import ContextFactory, dispatch, feature
from flagkit._client.exposure import ExposureLog, ExposureSink, as_sink
from flagkit._client.getters import Getters
from flagkit._client.hooks import Hook
from flagkit._client.observed import error_details, evaluate
from flagkit._client.overrides import ClientOverride, Overrides, OverrideScope
from flagkit._client.variants import view_of, view_of_details
from flagkit._core.details import DISABLED_VARIANT, Details, ErrorCode, Variant
from flagkit._core.snapshot import EMPTY, Snapshot
from flagkit._sources import forking
from flagkit._sources.base import Source, SourceStatus
from flagkit._sources.file import FileSource
from flagkit._sources.http import HTTPOptions, HTTPSource
from flagkit._sources.memory import MemorySource
from flagkit._sources.unleash import UnleashSource
from flagkit._types import Clock, ContextLike, DocumentFormat, PathLike, Syntax

if TYPE_CHECKING:
    from flagkit._client.exposure import ExposureEvent

__all__ = ["Client", "ClientOptions", "ClientStatus", "URLOptions"]

logger = logging.getLogger("flagkit")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
SinkLike = ExposureSink | Callable[[Sequence["ExposureEvent"]], object] | str | os.PathLike[str]


class ClientOptions(TypedDict, total=False):
    """What every client constructor takes besides its source (see ``Client``)."""

    context: ContextLike | None
    hooks: Iterable[Hook]
    exposures: SinkLike | ExposureLog | None
    counters: bool
    name: str


class URLOptions(HTTPOptions, ClientOptions, total=False):
    """``Client.from_url``'s options: the HTTP source's and the client's."""


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """Which flags are live, where they came from, and how healthy the source is."""

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
    an ``exposures`` sink, ``counters``, and a ``name``.
    """

    def __init__(
        self,
        source: Source | Snapshot | Mapping[str, Any] | None = None,
        *,
        context: ContextLike | None = None,
        hooks: Iterable[Hook] = (),
        exposures: SinkLike | ExposureLog | None = None,
        counters: bool = False,
        name: str = "flagkit",
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._snapshot: Snapshot = EMPTY
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
        self._overrides = Overrides()
        self._change_listeners: list[Callable[[ChangeEvent], object]] = []
        self._error_listeners: list[Callable[[Exception], object]] = []
        self._publish_lock = threading.RLock()
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._closed = False
        self._observed = False
        if source is None:
            source = MemorySource(clock=clock)
        elif isinstance(source, Snapshot):
            source = MemorySource(source)
        elif not isinstance(source, Source):
            source = MemorySource(source, clock=clock)
        self._source: Source = source
        self._refresh_mode()
        overrides.register_client(self)
        forking.register(self)
        source.start(self)

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
        **options: Unpack[ClientOptions],
    ) -> Client:
        """Load a flag file (JSON, TOML or YAML); ``watch=True`` reloads it on change.

        ``format="flagd"`` reads a flagd flag-definition document, and
        ``format="auto"`` tells the two apart by content.
        """
        source = FileSource(
            path, syntax=syntax, format=format, watch=watch, interval=interval, clock=clock
        )
        return cls(source, clock=clock, **options)

    @classmethod
    def from_dict(
        cls,
        document: Mapping[str, Any],
        *,
        format: DocumentFormat = "native",
        clock: Clock | None = None,
        **options: Unpack[ClientOptions],
    ) -> Client:
        """Validate and compile a flag document held in memory (native, flagd or auto)."""
        return cls(MemorySource(document, format=format, clock=clock), clock=clock, **options)

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
        """Make ``snapshot`` live (sources call this) and tell change listeners."""
        with self._publish_lock:
            previous = self._snapshot
            self._tables = snapshot.evaluators
            self._snapshot = snapshot
            event = diff_snapshots(previous, snapshot)
            if event:
                for listener in list(self._change_listeners):
                    try:
                        listener(event)
                    except Exception:
                        logger.warning(
                            "flagkit: change listener %r raised", listener, exc_info=True
                        )

    def report_error(self, error: Exception) -> None:
        """Record a failed load (sources call this) and tell error listeners."""
        self._last_error = str(error)
        self._last_error_at = time.time()
        for listener in list(self._error_listeners):
            try:
                listener(error)
            except Exception:
                logger.warning("flagkit: error listener %r raised", listener, exc_info=True)

    def on_change(self, listener: Callable[[ChangeEvent], object]) -> Callable[[], None]:
        """Call ``listener(event)`` once per change of flags; return an unsubscribe function."""
        self._change_listeners.append(listener)
        return lambda: self._change_listeners.remove(listener)

    def on_error(self, listener: Callable[[Exception], object]) -> Callable[[], None]:
        """Call ``listener(error)`` when a reload fails; return an unsubscribe function."""
        self._error_listeners.append(listener)
        return lambda: self._error_listeners.remove(listener)

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
            last_error=self._last_error or source.last_error,
            last_error_at=self._last_error_at or source.last_error_at,
            stale=source.stale,
            closed=self._closed,
            source=source,
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
            resolution = constant if constant is not None else flag.evaluate(context)[0]
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
        return {
            label_of(key): evaluate(
                self,
                key,
                None,
                context,
                None,
                details=True,
                snapshot=snapshot,
                record=False,
                prepared=prepared,
            )
            for key in snapshot.flags
        }

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
        """Count and return an evaluation that failed with ``code``: the caller's default."""
        if self._counters is not None:
            self._counters.add_error(flag_key, code)
        return error_details(flag_key, default, code, message)

    def _why_missing(self, flag_key: str) -> ErrorCode:
        return (
            ErrorCode.TYPE_MISMATCH
            if flag_key in self._snapshot.flags
            else ErrorCode.FLAG_NOT_FOUND
        )

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
            )

    def after_fork_in_child(self) -> None:
        """Replace the client's lock in a forked child (its holder may be gone)."""
        self._publish_lock = threading.RLock()

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
