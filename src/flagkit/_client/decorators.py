"""Toggle points as decorators: a flag picks the implementation to call.

``feature`` chooses between a new function and its fallback on a boolean
flag; ``dispatch`` chooses one implementation per variant of any flag (an
A/B test at the toggle point instead of an ``if`` chain). Both keep the
wrapped signature for type checkers (ParamSpec), work on sync and async
functions, and fall back on any problem: an unknown variant, an error, a
context function that raises. A toggle point never raises on its own.

When the client records outcomes for the flag (it is guarded, or the
client was built with ``outcomes=True``), the served variant's calls,
exceptions and wall time are recorded (``toggles`` and ``Cell.record``;
the sync ``feature`` writes both out, see ``_sync_toggle``), and
exceptions propagate unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from flagkit._client.counters import shown_key
from flagkit._client.outcomes import count_in
from flagkit._client.toggles import (
    await_measured,
    call_measured,
    recorded_key,
    recorder_of,
    server,
)
from flagkit._core.snapshot import VALUE_TYPES, Resolution

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["ContextFactory", "dispatch", "feature"]

P = ParamSpec("P")
R = TypeVar("R")
ContextFactory = Callable[..., Mapping[str, Any] | None]

logger = logging.getLogger("flagkit")
BOOL_TABLE = VALUE_TYPES.index("bool")  # the snapshot's table of flags that serve a bool


class _Broken:
    """The context of a call whose context function raised: always the fallback."""


_BROKEN: Any = _Broken()


def _context_of(factory: ContextFactory | None, flag_key: str, args: Any, kwargs: Any) -> Any:
    if factory is None:
        return None  # the scoped context
    try:
        return factory(*args, **kwargs)
    except Exception:
        return _context_failed(flag_key)


def _context_failed(flag_key: str) -> Any:
    """Log the context function's exception (being handled); return the broken context."""
    logger.warning(
        "flagkit: context function for %r raised; calling the fallback",
        shown_key(flag_key),
        exc_info=True,
    )
    return _BROKEN  # not a mapping: the evaluation errors, so the fallback runs


def dispatch(
    client: Client,
    flag_key: str,
    implementations: Mapping[str, Callable[P, R]],
    *,
    fallback: Callable[P, R],
    context: ContextFactory | None = None,
) -> Callable[P, R]:
    """Return a function calling the implementation of the variant ``flag_key`` serves."""
    table = dict(implementations)
    kinds = {inspect.iscoroutinefunction(f) for f in [*table.values(), fallback]}
    if len(kinds) != 1:
        raise TypeError(f"{flag_key!r}: mix of async and sync implementations")

    serve = server(client, flag_key, None, None)
    recorded = recorded_key(flag_key)  # outcomes' key: an exact str, whatever was passed

    def choose(args: Any, kwargs: Any) -> tuple[str | None, Callable[P, R]]:
        variant, _ = serve(_context_of(context, flag_key, args, kwargs))
        return variant, table.get(variant, fallback) if variant is not None else fallback

    if kinds == {True}:

        @functools.wraps(fallback)
        async def async_dispatcher(*args: P.args, **kwargs: P.kwargs) -> Any:
            variant, implementation = choose(args, kwargs)
            outcomes = recorder_of(client, recorded)
            if outcomes is None or variant is None:
                return await implementation(*args, **kwargs)  # type: ignore[misc]
            return await await_measured(outcomes, recorded, variant, implementation, args, kwargs)  # type: ignore[arg-type]

        return async_dispatcher  # type: ignore[return-value]

    @functools.wraps(fallback)
    def dispatcher(*args: P.args, **kwargs: P.kwargs) -> R:
        variant, implementation = choose(args, kwargs)
        outcomes = recorder_of(client, recorded)
        if outcomes is None or variant is None:
            return implementation(*args, **kwargs)
        return call_measured(outcomes, recorded, variant, implementation, args, kwargs)

    return dispatcher


def feature(
    client: Client,
    flag_key: str,
    *,
    fallback: Callable[P, R],
    context: ContextFactory | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a decorator: call the decorated function when the flag is on, else ``fallback``."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func) != inspect.iscoroutinefunction(fallback):
            raise TypeError(
                f"{flag_key!r}: the function and its fallback must both be async or sync"
            )
        if not inspect.iscoroutinefunction(func):
            return _sync_toggle(client, flag_key, func, fallback, context)
        get_bool = client.get_bool
        serve = server(client, flag_key, False, "bool")
        recorded = recorded_key(flag_key)  # outcomes' key: an exact str, whatever was passed

        @functools.wraps(func)
        async def async_toggle(*args: P.args, **kwargs: P.kwargs) -> Any:
            outcomes = client._outcomes
            if outcomes is not None and outcomes.records(recorded):
                variant, on = serve(_context_of(context, flag_key, args, kwargs))
                implementation: Any = func if on else fallback  # a coroutine function
                if variant is not None:
                    return await await_measured(
                        outcomes, recorded, variant, implementation, args, kwargs
                    )
                return await implementation(*args, **kwargs)
            on = get_bool(flag_key, False, _context_of(context, flag_key, args, kwargs))
            return await (func if on else fallback)(*args, **kwargs)  # type: ignore[misc]

        return async_toggle  # type: ignore[return-value]

    return decorate


def _sync_toggle(  # noqa: PLR0915 - one flat hot path: helpers would add the calls it saves
    client: Client,
    flag_key: str,
    func: Callable[P, R],
    fallback: Callable[P, R],
    context: ContextFactory | None,
) -> Callable[P, R]:
    """Return the sync toggle point of ``feature``.

    The plain path costs what it did before outcomes existed (one attribute
    read more). The measured path is written flat, because each Python call
    on it costs about a tenth of the plain toggle point: for a dict context
    on an unobserved client without counters it resolves the flag as
    ``serve``'s fast path does (anything else goes to ``serve``), and it
    records a call that returns as ``Cell.record`` does (tests check the
    two agree).
    """
    get_bool = client.get_bool
    serve = server(client, flag_key, False, "bool")
    recorded = recorded_key(flag_key)  # outcomes' key: an exact str, whatever was passed

    @functools.wraps(func)
    def toggle(*args: P.args, **kwargs: P.kwargs) -> R:
        outcomes = client._outcomes
        if outcomes is None or recorded not in outcomes.watched:
            if context is None:
                return (func if get_bool(flag_key, False) else fallback)(*args, **kwargs)
            on = get_bool(flag_key, False, _context_of(context, flag_key, args, kwargs))
            return (func if on else fallback)(*args, **kwargs)
        ctx = None
        if context is not None:
            try:
                ctx = context(*args, **kwargs)
            except Exception:
                ctx = _context_failed(flag_key)
        variant = None
        if not client._observed and client._counters is None:
            try:  # a missing flag or a hostile context raises: ``serve`` answers and reports
                if ctx.__class__ is dict:
                    entry: Any = client._tables[BOOL_TABLE][flag_key]
                    resolution = entry if entry.__class__ is Resolution else entry(ctx)[0]
                    if resolution.has_value:
                        variant, on = resolution.variant, resolution.value
            except Exception:
                variant = None
        if variant is None:
            variant, on = serve(ctx)
        implementation = func if on else fallback
        if variant is None:
            return implementation(*args, **kwargs)
        try:  # this thread's cell, found in one step once it exists
            cell = outcomes.local.cells[recorded][variant]
        except (AttributeError, KeyError):
            cell = outcomes.cell(recorded, variant)
        start = perf_counter_ns()
        try:
            result = implementation(*args, **kwargs)
        except Exception:
            cell.record(start, True)
            raise
        end = perf_counter_ns()  # from here on, Cell.record(start, False) written out
        elapsed = end - start
        cell.calls += 1
        cell.nanos += elapsed
        histogram = cell.histogram
        if histogram is not None:
            bits = elapsed.bit_length()
            bucket = (bits << 4) + (elapsed >> (bits - 5)) - 80 if bits > 5 else elapsed
            try:
                histogram[bucket] += 1
            except IndexError:
                count_in(histogram, bucket)
        if end >= outcomes.next_due:
            outcomes.due(end)
        return result

    return toggle
