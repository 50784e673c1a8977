"""The client: typed getters, details, toggle points, hooks, events, status.

The typed getters are the hot path. With nothing observing (no hooks, no
exposure log, no client context, no override), a getter reads the live
evaluator table (one attribute: a reload swaps it atomically), looks the
flag up, runs its generated evaluator and returns a value: no locks, no
logging, no allocation on the common paths. Anything observing switches
the getters to the full path, which builds ``Details`` and runs hooks.
Either way, problems become the caller's default, never an exception.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from flagkit._client import overrides
from flagkit._client.changes import ChangeEvent, diff_snapshots
from flagkit._client.context import EMPTY_CONTEXT, ContextLike, _current, merge_contexts
from flagkit._client.counters import Counters, CountKey
from flagkit._client.decorators import ContextFactory, dispatch, feature
from flagkit._client.exposure import ExposureLog, ExposureSink, as_sink
from flagkit._client.hooks import Hook, HookContext, log_hook_failure
from flagkit._client.overrides import Overrides, OverrideScope
from flagkit._core.details import Details, ErrorCode, Reason
from flagkit._core.snapshot import (
    EMPTY,
    NO_VALUE,
    VALUE_TYPES,
    CompiledFlag,
    Outcome,
    Resolution,
    Snapshot,
    ValueType,
)
from flagkit._sources import forking
from flagkit._sources.base import Source, SourceStatus
from flagkit._sources.file import FileSource
from flagkit._sources.http import HTTPSource
from flagkit._sources.memory import MemorySource
from flagkit._types import Clock, DocumentFormat, Syntax

if TYPE_CHECKING:
    from flagkit._client.exposure import ExposureEvent

__all__ = ["Client", "ClientStatus"]

logger = logging.getLogger("flagkit")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
SinkLike = ExposureSink | Callable[[Sequence["ExposureEvent"]], object] | str | os.PathLike[str]

_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def _copy_json(value: Any) -> Any:
    """Return a deep copy of JSON data, so a caller cannot mutate the snapshot."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _is_mapping(context: object) -> bool:
    return isinstance(context, (dict, Mapping))


def _typed_getter(value_type: ValueType, name: str) -> Callable[..., Any]:
    """Build the fast getter for one value type.

    Generated rather than written five times: the body is the hot path, so
    it stays flat (no shared helper call), and identical for every type. One
    dict lookup in the snapshot's per-type table finds the flag and proves
    its type at once.
    """
    index = VALUE_TYPES.index(value_type)
    simple = value_type not in ("object", "float")
    copies = value_type == "object"
    current_context = _current.get

    def getter(
        self: Client, flag_key: str, default: Any, context: ContextLike | None = None
    ) -> Any:
        if self._observed:
            return self._observed_value(flag_key, default, context, value_type)
        entry = self._tables[index].get(flag_key)
        if entry is None:
            if self._counters is not None:
                self._counters.add_error(flag_key, self._why_missing(flag_key))
            return default
        if context is None:
            context = current_context()
        elif context.__class__ is not dict and not isinstance(context, Mapping):
            return default
        if isinstance(entry, Resolution):  # a flag that ignores the context
            resolution = entry
        else:
            try:
                resolution = entry(context)[0]
            except Exception:  # the core never raises; this is the last guard
                return default
        counters = self._counters
        if counters is not None:
            try:
                counts = counters.local.counts
            except AttributeError:
                counts = counters.new_local()
            counts[resolution] = counts.get(resolution, 0) + 1
        value = resolution.value
        if value is NO_VALUE:
            return default
        if simple:
            return value
        return _copy_json(value) if copies else float(value)

    getter.__name__ = getter.__qualname__ = name
    getter.__doc__ = (
        f"Return the {value_type} value of ``flag_key``, or ``default`` on any problem."
    )
    return getter


def _details_getter(value_type: ValueType | None, name: str) -> Callable[..., Details]:
    def details(
        self: Client, flag_key: str, default: Any, context: ContextLike | None = None
    ) -> Details:
        return self._evaluate(flag_key, default, context, value_type)

    details.__name__ = details.__qualname__ = name
    details.__doc__ = f"Return the full details of evaluating ``flag_key`` as {value_type}."
    return details


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


class Client:
    """Evaluate feature flags from a snapshot that a source keeps up to date.

    ``Client.from_file("flags.yaml")`` is the usual start; ``from_dict`` takes
    a document in memory; ``Client(source)`` takes any source.
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
        _clients.add(self)
        forking.register(self)
        source.start(self)

    # -- construction -------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        syntax: Syntax | None = None,
        format: DocumentFormat = "native",
        watch: bool = False,
        interval: float = 1.0,
        clock: Clock | None = None,
        **options: Any,
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
        **options: Any,
    ) -> Client:
        """Validate and compile a flag document held in memory (native, flagd or auto)."""
        return cls(MemorySource(document, format=format, clock=clock), clock=clock, **options)

    @classmethod
    def from_url(cls, url: str, **source_options: Any) -> Client:
        """Poll a flag document over HTTP(S); the options go to ``HTTPSource``."""
        return cls(HTTPSource(url, **source_options))

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

    if TYPE_CHECKING:

        def get_bool(
            self, flag_key: str, default: bool, context: ContextLike | None = None
        ) -> bool:
            """Return the boolean value of ``flag_key``, or ``default`` on any problem."""

        def get_str(self, flag_key: str, default: str, context: ContextLike | None = None) -> str:
            """Return the string value of ``flag_key``, or ``default`` on any problem."""

        def get_int(self, flag_key: str, default: int, context: ContextLike | None = None) -> int:
            """Return the integer value of ``flag_key``, or ``default`` on any problem."""

        def get_float(
            self, flag_key: str, default: float, context: ContextLike | None = None
        ) -> float:
            """Return the number value of ``flag_key``, or ``default`` on any problem."""

        def get_object(
            self, flag_key: str, default: T, context: ContextLike | None = None
        ) -> T | dict[str, Any]:
            """Return a copy of the JSON object of ``flag_key``, or ``default``."""

        def get_bool_details(
            self, flag_key: str, default: bool, context: ContextLike | None = None
        ) -> Details:
            """Return the details of evaluating ``flag_key`` as a boolean."""

        def get_str_details(
            self, flag_key: str, default: str, context: ContextLike | None = None
        ) -> Details:
            """Return the details of evaluating ``flag_key`` as a string."""

        def get_int_details(
            self, flag_key: str, default: int, context: ContextLike | None = None
        ) -> Details:
            """Return the details of evaluating ``flag_key`` as an integer."""

        def get_float_details(
            self, flag_key: str, default: float, context: ContextLike | None = None
        ) -> Details:
            """Return the details of evaluating ``flag_key`` as a number."""

        def get_object_details(
            self, flag_key: str, default: Any, context: ContextLike | None = None
        ) -> Details:
            """Return the details of evaluating ``flag_key`` as a JSON object."""

        def get_details(
            self, flag_key: str, default: Any = None, context: ContextLike | None = None
        ) -> Details:
            """Return the details of evaluating ``flag_key``, whatever its type."""

    else:
        get_bool = _typed_getter("bool", "get_bool")
        get_str = _typed_getter("str", "get_str")
        get_int = _typed_getter("int", "get_int")
        get_float = _typed_getter("float", "get_float")
        get_object = _typed_getter("object", "get_object")
        get_bool_details = _details_getter("bool", "get_bool_details")
        get_str_details = _details_getter("str", "get_str_details")
        get_int_details = _details_getter("int", "get_int_details")
        get_float_details = _details_getter("float", "get_float_details")
        get_object_details = _details_getter("object", "get_object_details")
        get_details = _details_getter(None, "get_details")

    def variant_of(self, flag_key: str, context: ContextLike | None = None) -> str | None:
        """Return the variant ``flag_key`` serves for ``context`` (None on any problem)."""
        return self._evaluate(flag_key, None, context, None).variant

    def all_flags(self, context: ContextLike | None = None) -> dict[str, Details]:
        """Return the details of every flag for one context (e.g. for a front end).

        Overrides apply; hooks, counters and exposure events do not (this is
        a bulk read, not a use of each flag).
        """
        snapshot = self._snapshot  # one read: every flag from the same generation
        ctx = self._context_for(context)
        if ctx is None:
            return {key: _error(key, None, ErrorCode.PARSE_ERROR) for key in snapshot.flags}
        return {
            key: self._resolve(snapshot, key, None, ctx, None, observe=False)
            for key in snapshot.flags
        }

    def _context_for(self, context: ContextLike | None) -> Mapping[str, Any] | None:
        """Return the effective context: client context under the call's (or scoped) one."""
        if context is None:
            context = _current.get()
        elif not _is_mapping(context):
            return None
        return merge_contexts(self._client_context, context)

    def _evaluate(
        self,
        flag_key: str,
        default: Any,
        context: ContextLike | None,
        value_type: ValueType | None,
    ) -> Details:
        """Evaluate with everything observing it: hooks, counters, exposures, overrides."""
        try:
            return self._evaluate_guarded(flag_key, default, context, value_type)
        except Exception as exc:  # a hostile context or sink: still never raise
            return self._error(flag_key, default, ErrorCode.GENERAL, f"{type(exc).__name__}: {exc}")

    def _evaluate_guarded(
        self,
        flag_key: str,
        default: Any,
        context: ContextLike | None,
        value_type: ValueType | None,
    ) -> Details:
        ctx = self._context_for(context)
        hooks = self._hooks
        hook_context: HookContext | None = None
        if hooks:
            hook_context = HookContext(
                flag_key, value_type, default, ctx or EMPTY_CONTEXT, self.name
            )
            for hook in hooks:
                try:
                    extra = hook.before(hook_context, hook_context.hints)
                except Exception:
                    log_hook_failure(hook, "before", flag_key)
                    continue
                if extra and ctx is not None:
                    ctx = merge_contexts(ctx, extra)
                    hook_context = hook_context.with_context(ctx)
        if ctx is None:
            details = self._error(flag_key, default, ErrorCode.PARSE_ERROR)
        else:
            details = self._resolve(self._snapshot, flag_key, default, ctx, value_type)
        if hook_context is not None:
            self._run_after_hooks(hook_context, details)
        return details

    def _resolve(
        self,
        snapshot: Snapshot,
        flag_key: str,
        default: Any,
        ctx: Mapping[str, Any],
        value_type: ValueType | None,
        *,
        observe: bool = True,
    ) -> Details:
        outcome = self._outcome(snapshot, flag_key, default, ctx, value_type, observe)
        if isinstance(outcome, Details):
            return outcome
        resolution, bucket = outcome
        details = resolution.with_bucket(bucket, default)
        if resolution.has_value and (value_type == "float" or isinstance(details.value, dict)):
            # Objects are copied whatever was asked (get_details, all_flags too),
            # so no caller can mutate the shared snapshot.
            value = float(details.value) if value_type == "float" else _copy_json(details.value)
            return Details(
                flag_key, value, details.variant, details.reason, rule=details.rule, bucket=bucket
            )
        return details

    def _observed_value(
        self, flag_key: str, default: Any, context: ContextLike | None, value_type: ValueType
    ) -> Any:
        """Return just the value, observed (counters, exposures, overrides) but hook-free."""
        if self._hooks:
            return self._evaluate(flag_key, default, context, value_type).value
        try:
            return self._observed_value_guarded(flag_key, default, context, value_type)
        except Exception as exc:  # a hostile context or sink: still never raise
            message = f"{type(exc).__name__}: {exc}"
            return self._error(flag_key, default, ErrorCode.GENERAL, message).value

    def _observed_value_guarded(
        self, flag_key: str, default: Any, context: ContextLike | None, value_type: ValueType
    ) -> Any:
        ctx = self._context_for(context)
        if ctx is None:
            return self._error(flag_key, default, ErrorCode.PARSE_ERROR).value
        outcome = self._outcome(self._snapshot, flag_key, default, ctx, value_type, True)
        if isinstance(outcome, Details):
            return outcome.value
        value = outcome[0].value
        if value is NO_VALUE:
            return default
        if value_type == "object":
            return _copy_json(value)
        return float(value) if value_type == "float" else value

    def _outcome(  # noqa: PLR0917 - internal, called from two places
        self,
        snapshot: Snapshot,
        flag_key: str,
        default: Any,
        ctx: Mapping[str, Any],
        value_type: ValueType | None,
        observe: bool,
    ) -> Outcome | Details:
        """Evaluate one flag: its outcome, or the Details of an override or an error."""
        fail = self._error if observe else _error
        overridden, forced = (
            self._overrides.lookup(flag_key) if self._overrides.any_active() else (False, None)
        )
        flag = snapshot.flags.get(flag_key)
        if overridden:
            return self._forced(flag_key, flag, forced, default, value_type)
        if flag is None:
            return fail(flag_key, default, ErrorCode.FLAG_NOT_FOUND)
        if (
            value_type is not None
            and flag.value_type != value_type
            and not _widens(flag, value_type)
        ):
            message = f"flag is {flag.value_type}, asked for {value_type}"
            return fail(flag_key, default, ErrorCode.TYPE_MISMATCH, message)
        try:
            outcome = flag.evaluate(ctx)
        except Exception as exc:  # the core never raises; this is the last guard
            return fail(flag_key, default, ErrorCode.GENERAL, f"{type(exc).__name__}: {exc}")
        resolution = outcome[0]
        if observe and self._counters is not None:
            self._counters.add(resolution)
        if observe and self._exposures is not None and flag.track_exposure and resolution.has_value:
            self._exposures.record(
                flag_key, resolution.variant, ctx.get("targetingKey"), resolution.reason.value
            )
        return outcome

    def _forced(
        self,
        flag_key: str,
        flag: CompiledFlag | None,
        forced: Any,
        default: Any,
        value_type: ValueType | None,
    ) -> Details:
        variant: str | None = None
        value = forced
        if flag is not None and isinstance(forced, str) and forced in flag.variants:
            variant, value = forced, flag.variants[forced]
        elif flag is not None:
            variant = next(
                (
                    name
                    for name, v in flag.variants.items()
                    if v == value and type(v) is type(value)
                ),
                None,
            )
        if value_type is not None and not _value_fits(value, value_type):
            message = f"override {forced!r} is not a {value_type}"
            return self._error(flag_key, default, ErrorCode.TYPE_MISMATCH, message)
        if isinstance(value, dict):
            value = _copy_json(value)
        return Details(flag_key, value, variant, Reason.OVERRIDE, rule="override")

    def _error(
        self, flag_key: str, default: Any, code: ErrorCode, message: str | None = None
    ) -> Details:
        if self._counters is not None:
            self._counters.add_error(flag_key, code)
        return _error(flag_key, default, code, message)

    def _why_missing(self, flag_key: str) -> ErrorCode:
        return (
            ErrorCode.TYPE_MISMATCH
            if flag_key in self._snapshot.flags
            else ErrorCode.FLAG_NOT_FOUND
        )

    def _run_after_hooks(self, hook_context: HookContext, details: Details) -> None:
        flag_key = hook_context.flag_key
        for hook in reversed(self._hooks):
            try:
                if details.error_code is not None:
                    hook.error(hook_context, details.as_exception(), hook_context.hints)
                else:
                    hook.after(hook_context, details, hook_context.hints)
            except Exception:
                log_hook_failure(hook, "error" if details.error_code else "after", flag_key)
        for hook in reversed(self._hooks):
            try:
                hook.finally_after(hook_context, details, hook_context.hints)
            except Exception:
                log_hook_failure(hook, "finally_after", flag_key)

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
        to the current thread or asyncio task (and tasks it starts).
        """
        return _ClientOverride(self, values, local=local)

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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        snapshot = self._snapshot
        return f"<flagkit.Client {self.name!r} {len(snapshot.flags)} flags from {snapshot.origin}>"


class _ClientOverride(OverrideScope):
    """An override scope that also switches its client to the observing path."""

    def __init__(self, client: Client, values: Mapping[str, Any], *, local: bool) -> None:
        super().__init__(client._overrides, values, local=local)
        self._client = client

    def changed(self) -> None:
        """Switch the affected clients' getters (called under the mode lock)."""
        if self._local:
            _refresh_all()
        else:
            self._client._refresh_mode()

    def _fresh(self) -> OverrideScope:
        return _ClientOverride(self._client, dict(self.values()), local=self._local)


def _error(flag_key: str, default: Any, code: ErrorCode, message: str | None = None) -> Details:
    text = message or {
        ErrorCode.FLAG_NOT_FOUND: "no such flag",
        ErrorCode.PARSE_ERROR: "the context is not a mapping",
    }.get(code, code.value)
    return Details(flag_key, default, None, Reason.ERROR, code, text)


def _refresh_all() -> None:
    for client in list(_clients):
        client._refresh_mode()


def _widens(flag: CompiledFlag, value_type: ValueType) -> bool:
    """Return True where a float getter may read an int flag (ints are numbers too)."""
    return value_type == "float" and flag.value_type == "int"


def _value_fits(value: Any, value_type: ValueType) -> bool:
    if value_type == "bool":
        return isinstance(value, bool)
    if value_type == "str":
        return isinstance(value, str)
    if value_type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if value_type == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, dict)
