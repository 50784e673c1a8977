"""The typed getters: the fast path, and the details getters over the observed path.

``Client`` inherits these. With nothing observing (no hooks, no exposure
log, no client context, no override), a typed getter reads the live
evaluator table (one attribute: a reload swaps it atomically), looks the
flag up, runs its generated evaluator and returns a value: no locks, no
logging, no allocation on the common paths. Anything observing switches
the getters to the observed pipeline (``observed.evaluate``), which is also
what details, ``variant_of`` and ``all_flags`` run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from flagkit._client.context import UnusableContext, read_scoped_context
from flagkit._client.counters import Counters, tally_of
from flagkit._client.observed import convert, evaluate
from flagkit._core.details import Details, ErrorCode
from flagkit._core.snapshot import NO_VALUE, VALUE_TYPES, Evaluator, Resolution, Snapshot, ValueType
from flagkit._types import ContextLike

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["Getters"]

T = TypeVar("T")


def _typed_getter(value_type: ValueType, name: str) -> Callable[..., Any]:
    """Build the fast getter for one value type.

    Generated rather than written five times: the body is the hot path, so
    it stays flat (no shared helper call), and identical for every type. One
    dict lookup in the snapshot's per-type table finds the flag and proves
    its type at once. The ``try`` costs nothing unless something raises;
    then, and for a scoped context ``set_context`` could not use, the
    observed path (which reads the input safely, and counts and reports the
    error) answers instead.
    """
    index = VALUE_TYPES.index(value_type)
    simple = value_type not in ("object", "float")
    read_scoped = read_scoped_context
    unusable = UnusableContext

    def getter(
        self: Client, flag_key: str, default: Any, context: ContextLike | None = None
    ) -> Any:
        if self._observed:
            return evaluate(self, flag_key, default, context, value_type, details=False)
        try:
            entry = self._tables[index].get(flag_key)
            if entry is None:  # no such flag, or it never serves this type (``served``)
                if self._counters is not None or flag_key not in self._misses_logged:
                    return self._missed(flag_key, default, context, value_type)
                return default
            if context is None:
                context = read_scoped()
                if context.__class__ is unusable:  # set_context got something unusable
                    return evaluate(self, flag_key, default, None, value_type, details=False)
            elif context.__class__ is not dict and not isinstance(context, Mapping):
                if self._counters is not None:
                    self._counters.add_error(flag_key, ErrorCode.INVALID_CONTEXT)
                return default
            # A flag that ignores the context is its resolution: no call at all.
            # (``type() is``: cheaper than isinstance; Resolution is final.)
            resolution = entry if type(entry) is Resolution else entry(context)[0]
            counters = self._counters
            if counters is not None:
                try:
                    counts = counters.local.counts
                except AttributeError:
                    counts = counters.new_local()
                tally = resolution.tally or tally_of(resolution)
                counts[tally] = counts.get(tally, 0) + 1
            value = resolution.value
            if value is NO_VALUE:
                if resolution.error_code is not None:
                    self._resolved_with_error(
                        flag_key, resolution.error_code, resolution.error_message
                    )
                return default
            return value if simple else convert(value, value_type)
        except Exception:  # a hostile key or context: the observed path reports it
            return evaluate(self, flag_key, default, context, value_type, details=False)

    getter.__name__ = getter.__qualname__ = name
    getter.__doc__ = (
        f"Return the {value_type} value of ``flag_key``, or ``default`` on any problem."
    )
    return getter


def _details_getter(value_type: ValueType | None, name: str) -> Callable[..., Details]:
    def details(
        self: Client, flag_key: str, default: Any, context: ContextLike | None = None
    ) -> Details:
        result: Details = evaluate(self, flag_key, default, context, value_type, details=True)
        return result

    details.__name__ = details.__qualname__ = name
    details.__doc__ = f"Return the full details of evaluating ``flag_key`` as {value_type}."
    return details


class Getters:
    """The evaluation methods of ``Client`` (which provides the state they read)."""

    _observed: bool
    _tables: tuple[dict[str, Evaluator | Resolution], ...]
    _counters: Counters | None
    _snapshot: Snapshot
    _misses_logged: set[str]

    def _missed(
        self, flag_key: str, default: Any, context: ContextLike | None, value_type: ValueType
    ) -> Any:
        raise NotImplementedError

    def _resolved_with_error(self, flag_key: str, code: ErrorCode, message: str | None) -> None:
        raise NotImplementedError

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
