"""Compiled flags: the immutable objects the evaluation core runs on.

A ``Snapshot`` is built once per change of the flag document and never
mutated; a client swaps its reference atomically. Nothing here imports
pydantic or does I/O: these are plain slotted objects and closures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, final

from flagkit._core.details import Details, ErrorCode, Reason, Variant
from flagkit._core.served import integer_view
from flagkit._errors import Problem
from flagkit._types import ContextLike

if TYPE_CHECKING:
    from flagkit._core.plan import Plan

__all__ = [
    "NO_VALUE",
    "VALUE_TYPES",
    "CompiledFlag",
    "Evaluator",
    "EvaluatorTables",
    "FlagMeta",
    "Outcome",
    "Resolution",
    "Snapshot",
    "ValueType",
    "install_entry",
    "keep_last_good",
]

ValueType = Literal["bool", "str", "int", "float", "object"]
#: The value types, in the order of ``Snapshot.evaluators``.
VALUE_TYPES: tuple[ValueType, ...] = ("bool", "str", "int", "float", "object")


class _NoValue:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"


#: The value of a resolution that serves the caller's default.
NO_VALUE: Any = _NoValue()


@final
class Resolution:
    """One precomputed way a flag can resolve: variant, value, reason, rule.

    Built at compile time, so the hot path returns an existing object instead
    of allocating one. ``has_value`` is False when the caller's default must
    be served (an error, or a disabled flag without an off variant).
    """

    __slots__ = (
        "_details",
        "error_code",
        "error_message",
        "flag_key",
        "has_value",
        "outcome",
        "payload",
        "reason",
        "rule",
        "tally",
        "value",
        "variant",
        "view",
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
        payload: Any = None,
        view: Variant | None = None,
    ) -> None:
        self.flag_key = flag_key
        self.value = value if has_value else NO_VALUE
        self.variant = variant
        self.reason = reason
        self.rule = rule
        self.error_code = error_code
        self.error_message = error_message
        self.has_value = has_value
        #: What the variant carries besides the value (an Unleash variant's payload).
        self.payload = payload
        #: This resolution as ``Client.get_variant`` reports it (set by formats
        #: that define it, Unleash; built on first use otherwise).
        self.view = view
        self._details: Details | None = None
        self.outcome: Outcome = (self, None)
        #: The client's counting key for this resolution, set on first count.
        self.tally: Any = None

    def with_bucket(self, bucket: int | None, default: Any) -> Details:
        """Return the full details of this resolution for a caller's default."""
        if bucket is None and self.has_value:
            details = self._details
            if details is None:  # built on first use; a race builds two equal ones
                details = self._details = self._build(self.value, None)
            return details
        return self._build(self.value if self.has_value else default, bucket)

    def _build(self, value: Any, bucket: int | None) -> Details:
        return Details(
            self.flag_key,
            value,
            self.variant,
            self.reason,
            self.error_code,
            self.error_message,
            self.rule,
            bucket,
            self.payload,
        )

    def __repr__(self) -> str:
        return (
            f"Resolution(variant={self.variant!r}, reason={self.reason.value}, rule={self.rule!r})"
        )


#: What an evaluator returns: the resolution, and the bucket when a rollout decided.
Outcome = tuple[Resolution, int | None]
Evaluator = Callable[[ContextLike], Outcome]


class FlagMeta(NamedTuple):
    """Descriptive metadata of a flag (not used by evaluation)."""

    description: str | None = None
    kind: str = "release"
    owner: str | None = None
    expires: dt.date | None = None
    tags: tuple[str, ...] = ()


_EMPTY_METADATA: Mapping[str, Any] = MappingProxyType({})
_EMPTY_VIEWS: Mapping[str, Variant] = MappingProxyType({})
#: The metadata of a flag that has none (foreign formats).
NO_META = FlagMeta()


class CompiledFlag:
    """One flag, compiled: ``evaluate(context)`` returns an ``Outcome``.

    ``plan`` is what the flag does (``plan.Plan``); ``evaluate`` is the
    function ``codegen.render`` made of it, and ``constant`` the one
    resolution of a flag that ignores the context (off, or untargeted).
    ``evaluate_fast`` returns the same resolution without the rollout's
    bucket (None): what the typed getters call. It is ``evaluate`` itself
    unless the flag reports buckets (``codegen.render_both``).
    """

    __slots__ = (
        "constant",
        "definition",
        "evaluate",
        "evaluate_fast",
        "fingerprint",
        "key",
        "meta",
        "metadata",
        "plan",
        "track_exposure",
        "value_type",
        "variants",
        "views",
    )

    def __init__(
        self,
        key: str,
        *,
        plan: Plan,
        evaluate: Evaluator,
        evaluate_fast: Evaluator | None = None,
        value_type: ValueType,
        variants: Mapping[str, Any],
        meta: FlagMeta = NO_META,
        track_exposure: bool = False,
        definition: Any = None,
        fingerprint: str = "",
        metadata: Mapping[str, Any] | None = None,
        views: Mapping[str, Variant] | None = None,
    ) -> None:
        self.key = key
        self.plan = plan
        self.evaluate = evaluate
        self.evaluate_fast = evaluate if evaluate_fast is None else evaluate_fast
        constant = plan.constant
        self.constant = None if constant is None else constant[0]
        self.value_type: ValueType = value_type
        self.variants: Mapping[str, Any] = MappingProxyType(dict(variants))
        self.meta = meta
        self.track_exposure = track_exposure
        #: The validated definition this was compiled from (for tools, not evaluation).
        self.definition = definition
        #: A digest of the definition: equal digests mean an unchanged flag.
        self.fingerprint = fingerprint
        #: Foreign-format flag metadata (flagd's flag-set and flag ``metadata``, merged).
        self.metadata: Mapping[str, Any] = (
            _EMPTY_METADATA if not metadata else MappingProxyType(dict(metadata))
        )
        #: Each variant as ``Client.get_variant`` reports it, for formats that
        #: define that (Unleash); empty otherwise.
        self.views: Mapping[str, Variant] = (
            _EMPTY_VIEWS if not views else MappingProxyType(dict(views))
        )

    def __repr__(self) -> str:
        return f"CompiledFlag({self.key!r}, {self.value_type}, variants={list(self.variants)})"


#: Per value type (``VALUE_TYPES`` order), flag key -> evaluator or constant resolution.
EvaluatorTables = tuple[dict[str, "Evaluator | Resolution"], ...]
_INDEX = {name: i for i, name in enumerate(VALUE_TYPES)}


def install_entry(tables: EvaluatorTables, flag: CompiledFlag) -> None:
    """Put ``flag``'s entries in the tables a typed getter reads (``Snapshot``'s rules)."""
    constant = flag.constant
    if constant is not None and not constant.has_value:
        # Served as the caller's default whatever the getter (``served``).
        for table in tables:
            table[flag.key] = constant
        return
    entry = flag.evaluate_fast if constant is None else constant
    tables[_INDEX[flag.value_type]][flag.key] = entry
    if flag.value_type == "int":
        tables[_INDEX["float"]][flag.key] = entry
    elif flag.value_type == "float":
        as_int = integer_view(flag)
        if as_int is not None:
            tables[_INDEX["int"]][flag.key] = as_int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable, compiled flag set and where it came from.

    ``evaluators`` holds, per value type in ``VALUE_TYPES`` order, what a
    typed getter serves unchanged (``served``): flags of that type, and
    constants with no value (a disabled flag), which every getter serves as
    the caller's default. An entry is the flag's evaluator, or, for a flag
    that ignores the context, its one ``Resolution`` (no call at all). Ints
    are numbers, so int flags are in the float table too, and a float flag
    with an integral variant has an int view in the int table. A flag
    missing from a table serves the caller's default to that getter.

    ``flags`` may compile each flag on first use (``_core.lazy.LazyFlags``,
    which brings its own tables, holding stubs until then); the answers are
    the same either way.
    """

    flags: Mapping[str, CompiledFlag]
    origin: str = "<memory>"
    format: str = "native"
    loaded_at: float = 0.0
    revision: str = ""
    document: Any = field(default=None, repr=False, compare=False)
    #: Every problem found in the document (flags were isolated, not the document refused).
    problems: tuple[Problem, ...] = field(default=(), repr=False, compare=False)
    #: Keys of the refused flags: each resolves ERROR/PARSE_ERROR, or serves ``kept``.
    refused: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    #: Refused flags that serve their last good definition from an earlier snapshot.
    kept: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    evaluators: EvaluatorTables = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tables: EvaluatorTables | None = getattr(self.flags, "evaluator_tables", None)
        if tables is None:
            tables = tuple({} for _ in VALUE_TYPES)
            for flag in self.flags.values():
                install_entry(tables, flag)
        object.__setattr__(self, "evaluators", tables)

    def fingerprint(self, key: str) -> str:
        """Return the change digest of flag ``key`` (equal digests: an unchanged flag)."""
        lazy = getattr(self.flags, "fingerprint", None)
        if lazy is not None:
            return lazy(key)  # type: ignore[no-any-return]
        return self.flags[key].fingerprint

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


def keep_last_good(previous: Snapshot | None, new: Snapshot) -> Snapshot:
    """Return ``new`` with each refused flag that ``previous`` served well put back.

    DESIGN invariant 4: one bad flag keeps its last good definition where one
    exists, while the good flags update. A refused flag with no earlier good
    definition stays refused (the caller's default, ERROR/PARSE_ERROR).
    """
    if not new.refused or previous is None:
        return new
    flags = dict(new.flags)
    kept = set()
    for key in new.refused:
        earlier = previous.flags.get(key)
        if earlier is not None and (key not in previous.refused or key in previous.kept):
            flags[key] = earlier
            kept.add(key)
    if not kept:
        return new
    return dataclasses.replace(new, flags=flags, kept=frozenset(kept))
