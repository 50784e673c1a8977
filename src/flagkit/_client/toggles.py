"""Toggle points that measure: which variant served, and how its code did.

``server`` builds the function that resolves a flag to (variant, value)
(``served`` calls it once): on the fast path when
nothing observes the client (the typed getter's table lookup, counted the
same way), else through the observed pipeline. ``call_measured`` and
``await_measured`` run the chosen implementation and record its outcome
(a call, an exception, the wall time) for the served variant;
``Toggle`` does the same for a ``with`` block (``Client.toggle``).

An exception is recorded and re-raised unchanged. A ``BaseException``
that is not an ``Exception`` (cancellation, ``KeyboardInterrupt``,
``SystemExit``) is not an outcome of the variant's code: it passes
through unrecorded. Evaluations that served the caller's default (no
variant) are not recorded either.

A toggle point never raises on its own: the flag is evaluated with the key
as given (as a dict looks it up), and its outcomes are recorded under the
key as an exact string (``recorded_key``), so a caller's str subclass with
a raising ``__hash__`` cannot break the call it wraps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter_ns
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from flagkit._client.context import UnusableContext, read_scoped_context
from flagkit._client.counters import label_of
from flagkit._client.observed import convert, evaluate
from flagkit._client.outcomes import Outcomes
from flagkit._core.snapshot import VALUE_TYPES, Evaluator, Resolution, ValueType

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = [
    "Toggle",
    "await_measured",
    "call_measured",
    "recorded_key",
    "recorder_of",
    "served",
    "server",
]

R = TypeVar("R")
_INDEX = {value_type: i for i, value_type in enumerate(VALUE_TYPES)}


def server(
    client: Client, flag_key: str, default: Any, value_type: ValueType | None
) -> Callable[[Mapping[str, Any] | None], tuple[str | None, Any]]:
    """Return ``serve(context)``: the variant ``flag_key`` serves ``context``, and its value.

    ``(None, default)`` when it serves the caller's default. ``value_type``
    None skips the type check (as ``get_details`` does). A toggle point
    builds its ``serve`` once, so each call pays for no lookup it can skip.
    """
    index = None if value_type is None else _INDEX[value_type]
    plain = value_type in ("bool", "str", "int")  # served as they are: no conversion

    def serve(context: Mapping[str, Any] | None) -> tuple[str | None, Any]:
        if not client._observed:
            try:  # the fast path, for no context or a dict (a hostile object may raise)
                if context is None or context.__class__ is dict:
                    entry: Evaluator | Resolution | None
                    if index is None:
                        flag = client._snapshot.flags.get(flag_key)
                        entry = None if flag is None else flag.constant or flag.evaluate_fast
                    else:
                        entry = client._tables[index].get(flag_key)
                    if entry is not None:
                        if isinstance(entry, Resolution):
                            resolution = entry
                        else:
                            ctx = read_scoped_context() if context is None else context
                            if ctx.__class__ is UnusableContext:  # set_context got something
                                raise _Observe  # unusable: the observed path reports it
                            resolution = entry(ctx)[0]
                        if resolution.has_value:
                            counters = client._counters
                            if counters is not None:
                                counters.add(resolution)
                            value = resolution.value
                            answer = value if plain else convert(value, value_type)
                            return resolution.variant, answer
            except Exception:  # the observed path below reads the input safely, and reports it
                pass
        details = evaluate(client, flag_key, default, context, value_type, details=True)
        return details.variant, details.value

    return serve


class _Observe(Exception):
    """A scoped context the fast path cannot use: the observed path answers (and reports it)."""


def recorded_key(flag_key: object) -> str:
    """Return the key outcomes are recorded under: ``flag_key`` as an exact string."""
    return flag_key if type(flag_key) is str else label_of(flag_key)


def served(
    client: Client,
    flag_key: str,
    default: Any,
    context: Mapping[str, Any] | None,
    value_type: ValueType | None,
) -> tuple[str | None, Any]:
    """Return the variant ``flag_key`` serves ``context`` and its value (see ``server``)."""
    return server(client, flag_key, default, value_type)(context)


def call_measured(  # noqa: PLR0917 - positional: it runs on every measured call
    outcomes: Outcomes,
    flag_key: str,
    variant: str,
    implementation: Callable[..., R],
    args: Any,
    kwargs: Any,
) -> R:
    """Call ``implementation`` and record its outcome for ``variant``."""
    cell = outcomes.cell(flag_key, variant)
    start = perf_counter_ns()
    try:
        result = implementation(*args, **kwargs)
    except Exception:
        cell.record(start, True)
        raise
    cell.record(start, False)
    return result


async def await_measured(  # noqa: PLR0917 - positional: it runs on every measured call
    outcomes: Outcomes,
    flag_key: str,
    variant: str,
    implementation: Callable[..., Awaitable[R]],
    args: Any,
    kwargs: Any,
) -> R:
    """Await ``implementation`` and record its outcome for ``variant`` (wall time included)."""
    start = perf_counter_ns()
    try:
        result = await implementation(*args, **kwargs)
    except Exception:
        outcomes.record_call(flag_key, variant, start, True)  # the task may have moved thread
        raise
    outcomes.record_call(flag_key, variant, start, False)
    return result


def recorder_of(client: Client, flag_key: str) -> Outcomes | None:
    """Return the client's outcome store when toggle points of ``flag_key`` record.

    ``flag_key`` is a ``recorded_key``.
    """
    outcomes = client._outcomes
    if outcomes is None or not outcomes.records(flag_key):
        return None
    return outcomes


class Toggle:
    """A toggle point for a block: ``with client.toggle(flag, default, ctx) as served:``.

    ``value`` and ``variant`` are what the flag serves; the block's wall
    time and whether it raised are recorded for that variant (the exception
    propagates). ``error()`` records a failure that did not raise.
    """

    __slots__ = ("_failed", "_outcomes", "_start", "flag_key", "value", "variant")

    def __init__(
        self, client: Client, flag_key: str, default: Any, context: Mapping[str, Any] | None
    ) -> None:
        self.flag_key = recorded_key(flag_key)
        self.variant, self.value = served(client, flag_key, default, context, None)
        self._outcomes = None if self.variant is None else recorder_of(client, self.flag_key)
        self._failed = False
        self._start = 0

    def error(self) -> None:
        """Record this block as failed even though it does not raise."""
        self._failed = True

    def __enter__(self) -> Toggle:
        self._start = perf_counter_ns()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        outcomes = self._outcomes
        if outcomes is None or self.variant is None:
            return
        if exc_type is not None and not issubclass(exc_type, Exception):
            return
        failed = self._failed or exc_type is not None
        outcomes.record_call(self.flag_key, self.variant, self._start, failed)

    def __repr__(self) -> str:
        return f"Toggle({self.flag_key!r}, variant={self.variant!r})"
