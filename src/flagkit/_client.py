"""The client: typed getters and details over the live snapshot.

The getters are the hot path. Each reads the current snapshot reference
(one attribute load: a reload swaps it atomically), looks the flag up, runs
its compiled evaluator, and returns a value. No locks, no logging, no
allocation on the common paths; anything unexpected becomes the caller's
default, never an exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from flagkit._build import Clock, snapshot_from_data, snapshot_from_file
from flagkit._details import Details, ErrorCode, Reason
from flagkit._loader import Format
from flagkit._snapshot import EMPTY, NO_VALUE, VALUE_TYPES, CompiledFlag, Snapshot, ValueType

__all__ = ["Client"]

T = TypeVar("T")
ContextLike = Mapping[str, Any]
_EMPTY_CONTEXT: Mapping[str, Any] = {}


def _copy_json(value: Any) -> Any:
    """Return a deep copy of JSON data, so a caller cannot mutate the snapshot."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _typed_getter(value_type: ValueType, name: str) -> Callable[..., Any]:
    """Build the fast getter for one value type.

    Generated rather than written five times: the body is the hot path, so
    it stays flat (no shared helper call), and identical for every type. One
    dict lookup in the snapshot's per-type table finds the flag and proves
    its type at once.
    """
    index = VALUE_TYPES.index(value_type)
    copies = value_type == "object"

    def getter(
        self: Client, flag_key: str, default: Any, context: ContextLike | None = None
    ) -> Any:
        evaluate = self._tables[index].get(flag_key)
        if evaluate is None:
            return default
        try:
            value = evaluate(_EMPTY_CONTEXT if context is None else context)[0].value
        except Exception:  # the core never raises; this is the last guard
            return default
        if value is NO_VALUE:
            return default
        return _copy_json(value) if copies else value

    getter.__name__ = getter.__qualname__ = name
    getter.__doc__ = (
        f"Return the {value_type} value of ``flag_key``, or ``default`` on any problem."
    )
    return getter


def _widens(flag: CompiledFlag, value_type: ValueType) -> bool:
    """Return True where a float getter may read an int flag (ints are numbers too)."""
    return value_type == "float" and flag.value_type == "int"


def _details_getter(value_type: ValueType | None, name: str) -> Callable[..., Details]:
    def details(
        self: Client, flag_key: str, default: Any, context: ContextLike | None = None
    ) -> Details:
        return self._details(flag_key, default, context, value_type)

    details.__name__ = details.__qualname__ = name
    details.__doc__ = f"Return the full details of evaluating ``flag_key`` as {value_type}."
    return details


class Client:
    """Evaluate feature flags from a snapshot that sources keep up to date.

    ``Client.from_file("flags.yaml")`` is the usual start; ``from_dict`` takes
    a document already in memory.
    """

    def __init__(self, snapshot: Snapshot = EMPTY, *, clock: Clock | None = None) -> None:
        self._snapshot = snapshot
        self._tables = snapshot.evaluators
        self._clock = clock

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        format: Format | None = None,
        clock: Clock | None = None,
    ) -> Client:
        """Load, validate and compile a flag file (JSON, TOML or YAML)."""
        return cls(snapshot_from_file(path, format, clock=clock), clock=clock)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, clock: Clock | None = None) -> Client:
        """Validate and compile a flag document held in memory."""
        return cls(snapshot_from_data(document, clock=clock), clock=clock)

    @property
    def snapshot(self) -> Snapshot:
        """Return the live snapshot."""
        return self._snapshot

    def flag_keys(self) -> list[str]:
        """Return the keys of every flag in the live snapshot."""
        return list(self._snapshot.flags)

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

    def _details(
        self,
        flag_key: str,
        default: Any,
        context: ContextLike | None,
        value_type: ValueType | None,
    ) -> Details:
        flag = self._snapshot.flags.get(flag_key)
        if flag is None:
            return _error(flag_key, default, ErrorCode.FLAG_NOT_FOUND, "no such flag")
        if (
            value_type is not None
            and flag.value_type != value_type
            and not _widens(flag, value_type)
        ):
            return _error(
                flag_key,
                default,
                ErrorCode.TYPE_MISMATCH,
                f"flag is {flag.value_type}, asked for {value_type}",
            )
        if context is not None and not isinstance(context, Mapping):
            return _error(
                flag_key, default, ErrorCode.PARSE_ERROR, f"context is a {type(context).__name__}"
            )
        try:
            resolution, bucket = flag.evaluate(_EMPTY_CONTEXT if context is None else context)
        except Exception as exc:  # the core never raises; this is the last guard
            return _error(flag_key, default, ErrorCode.GENERAL, f"{type(exc).__name__}: {exc}")
        details = resolution.with_bucket(bucket, default)
        if value_type == "object" and resolution.has_value:
            return Details(
                details.flag_key,
                _copy_json(details.value),
                details.variant,
                details.reason,
                rule=details.rule,
                bucket=details.bucket,
            )
        return details


def _error(flag_key: str, default: Any, code: ErrorCode, message: str) -> Details:
    return Details(flag_key, default, None, Reason.ERROR, code, message)
