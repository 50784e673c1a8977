"""Compiled flags: the immutable objects the evaluation core runs on.

A ``Snapshot`` is built once per change of the flag document and never
mutated; a client swaps its reference atomically. Nothing here imports
pydantic or does I/O: these are plain slotted objects and closures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from flagkit._details import Details, ErrorCode, Reason

__all__ = [
    "CompiledFlag",
    "Evaluator",
    "FlagMeta",
    "Outcome",
    "Resolution",
    "Snapshot",
    "ValueType",
]

ValueType = Literal["bool", "str", "int", "float", "object"]
Context = Mapping[str, Any]


class Resolution:
    """One precomputed way a flag can resolve: variant, value, reason, rule.

    Built at compile time, so the hot path returns an existing object instead
    of allocating one. ``has_value`` is False when the caller's default must
    be served (an error, or a disabled flag without an off variant).
    """

    __slots__ = (
        "details",
        "error_code",
        "error_message",
        "has_value",
        "outcome",
        "reason",
        "rule",
        "value",
        "variant",
    )

    def __init__(
        self,
        flag_key: str,
        *,
        value: Any = None,
        variant: str | None = None,
        reason: Reason,
        rule: str | None = None,
        error_code: ErrorCode | None = None,
        error_message: str | None = None,
        has_value: bool = True,
    ) -> None:
        self.value = value
        self.variant = variant
        self.reason = reason
        self.rule = rule
        self.error_code = error_code
        self.error_message = error_message
        self.has_value = has_value
        self.details = Details(
            flag_key, value, variant, reason, error_code, error_message, rule, None
        )
        self.outcome: Outcome = (self, None)

    def with_bucket(self, bucket: int | None, default: Any) -> Details:
        """Return the full details of this resolution for a caller's default."""
        if bucket is None and self.has_value:
            return self.details
        d = self.details
        value = d.value if self.has_value else default
        return Details(
            d.flag_key, value, d.variant, d.reason, d.error_code, d.error_message, d.rule, bucket
        )

    def __repr__(self) -> str:
        return (
            f"Resolution(variant={self.variant!r}, reason={self.reason.value}, rule={self.rule!r})"
        )


#: What an evaluator returns: the resolution, and the bucket when a rollout decided.
Outcome = tuple[Resolution, int | None]
Evaluator = Callable[[Context], Outcome]


@dataclass(frozen=True, slots=True)
class FlagMeta:
    """Descriptive metadata of a flag (not used by evaluation)."""

    description: str | None = None
    kind: str = "release"
    owner: str | None = None
    expires: dt.date | None = None
    tags: tuple[str, ...] = ()


class CompiledFlag:
    """One flag, compiled: ``evaluate(context)`` returns an ``Outcome``."""

    __slots__ = (
        "definition",
        "evaluate",
        "key",
        "meta",
        "track_exposure",
        "value_type",
        "variants",
    )

    def __init__(
        self,
        key: str,
        *,
        evaluate: Evaluator,
        value_type: ValueType,
        variants: Mapping[str, Any],
        meta: FlagMeta,
        track_exposure: bool,
        definition: Any = None,
    ) -> None:
        self.key = key
        self.evaluate = evaluate
        self.value_type: ValueType = value_type
        self.variants: Mapping[str, Any] = MappingProxyType(dict(variants))
        self.meta = meta
        self.track_exposure = track_exposure
        #: The validated definition this was compiled from (for tools, not evaluation).
        self.definition = definition

    def __repr__(self) -> str:
        return f"CompiledFlag({self.key!r}, {self.value_type}, variants={list(self.variants)})"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable, compiled flag set and where it came from."""

    flags: Mapping[str, CompiledFlag]
    origin: str = "<memory>"
    format: str = "native"
    loaded_at: float = 0.0
    revision: str = ""
    document: Any = field(default=None, repr=False, compare=False)

    def get(self, key: str) -> CompiledFlag | None:
        """Return the compiled flag ``key``, or None."""
        return self.flags.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.flags

    def __iter__(self) -> Iterator[str]:
        return iter(self.flags)

    def __len__(self) -> int:
        return len(self.flags)


EMPTY = Snapshot(flags=MappingProxyType({}), origin="<empty>")
