"""A snapshot's flags, each compiled on its first evaluation.

Loading validates every flag in full (``_definitions``: shapes, then the
cross-checks) before a snapshot exists, but compiles none: compiling (a
plan, resolutions, a generated function) costs more than everything else
a load does, and most flags of a large document are rarely or never
evaluated by one process. A ``LazyFlags`` keeps each flag's validated text
and, in the snapshot's evaluator tables, a stub that compiles the flag on
its first call, installs the compiled evaluator (or constant resolution)
in its place and answers. From then on the getter finds the compiled entry:
no per-call cost remains.

Compiling a checked definition cannot fail; should it ever (a bug, memory),
the stub answers with an error resolution, so evaluation still never raises.
Two threads may compile one flag at once: both build equal objects, and
the first stored wins (``dict.setdefault``), so all callers converge.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec

from flagkit._core.compile import FlagCompiler, fingerprint_of, segments_used
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.snapshot import (
    VALUE_TYPES,
    CompiledFlag,
    EvaluatorTables,
    Outcome,
    Resolution,
    install_entry,
)
from flagkit._types import ContextLike

__all__ = ["LazyFlags", "empty_tables", "stub_tables"]

#: Turns a flag's kept text into its definition (``_definitions.shapes.decode_flag``).
Decode = Callable[[Any], Any]


class _Recipe:
    """What compiling needs: the texts, the decoder, the compiler (no tables, no stubs).

    Stubs hold it strongly; it holds nothing that holds a stub, so a
    snapshot is never a reference cycle (see ``_Stub``).
    """

    __slots__ = ("compiler", "decode", "texts")

    def __init__(self, texts: dict[str, Any], decode: Decode, compiler: FlagCompiler) -> None:
        self.texts = texts
        self.decode = decode
        self.compiler = compiler

    def compile(
        self, key: str, compiled: dict[str, CompiledFlag], tables: EvaluatorTables | None
    ) -> CompiledFlag:
        """Compile ``key`` after the prerequisites it needs (a loop: chains may be long).

        Each flag compiled is stored in ``compiled`` (the first stored wins)
        and, when ``tables`` are given, installed there in place of its stub.
        """
        decoded: dict[str, Any] = {}
        stack = [key]
        while stack:
            top = stack[-1]
            if top in compiled:
                stack.pop()
                continue
            definition = decoded.get(top)
            if definition is None:
                definition = decoded[top] = self.decode(self.texts[top])
            pending = [p.flag for p in definition.prerequisites if p.flag not in compiled]
            if pending:
                stack.extend(pending)  # validation guarantees they exist and form no cycle
                continue
            prerequisites = [
                (compiled[p.flag], frozenset(p.variants)) for p in definition.prerequisites
            ]
            flag = self.compiler.flag(top, definition, prerequisites, text=bytes(self.texts[top]))
            flag = compiled.setdefault(top, flag)
            if tables is not None:
                install_entry(tables, flag)
            stack.pop()
        return compiled[key]


class LazyFlags(Mapping[str, CompiledFlag]):
    """Flags compiled on first use: a mapping of key to ``CompiledFlag``.

    ``texts`` maps each flag key to its validated definition's JSON text
    (kept instead of the definition: a few hundred bytes, not a tree of
    objects); ``decode`` turns a text back into a definition; ``compiler``
    holds the compiled segments; ``tables`` are the snapshot's evaluator
    tables, holding each flag's stub until the flag is compiled.
    """

    def __init__(
        self,
        texts: dict[str, Any],
        *,
        decode: Decode,
        compiler: FlagCompiler,
        tables: EvaluatorTables,
    ) -> None:
        self._texts = texts
        self._decode = decode
        self._recipe = _Recipe(texts, decode, compiler)
        self._compiled: dict[str, CompiledFlag] = {}
        self._fingerprints: dict[str, str] = {}
        self.evaluator_tables = tables
        #: The flags with a guarded rollout, known from validation: a client
        #: watches those without compiling the others.
        self.guarded_keys: frozenset[str] = frozenset()
        self._self = weakref.ref(self)
        #: ``stub(key, index)``: the entry of table ``index`` that compiles ``key``
        #: on its first evaluation (a partial: building 10,000 runs no Python frame).
        self.stub: Callable[[str, int], Callable[[ContextLike], Outcome]] = functools.partial(
            _Stub, self._self, self._recipe
        )

    def __getitem__(self, key: str) -> CompiledFlag:
        flag = self._compiled.get(key)
        if flag is None:
            if key not in self._texts:
                raise KeyError(key)
            if type(key) is not str:  # a StrEnum: compile (and name) the flag by its exact text
                key = str.__str__(key)
            flag = self._recipe.compile(key, self._compiled, self.evaluator_tables)
        return flag

    def get(self, key: str, default: Any = None) -> Any:
        """Return the compiled flag ``key`` (compiling it now), or ``default``."""
        return self[key] if key in self._texts else default

    def __contains__(self, key: object) -> bool:
        return key in self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def compiled_count(self) -> int:
        """Return how many flags have been compiled so far."""
        return len(self._compiled)

    def fingerprint(self, key: str) -> str:
        """Return the change digest of ``key`` without compiling it (``fingerprint_of``)."""
        found = self._fingerprints.get(key)
        if found is not None:
            return found
        stack = [key]
        while stack:
            top = stack[-1]
            if top in self._fingerprints:
                stack.pop()
                continue
            definition = self._decode(self._texts[top])
            needed = [p.flag for p in definition.prerequisites]
            pending = [name for name in needed if name not in self._fingerprints]
            if pending:
                stack.extend(pending)
                continue
            texts = self._recipe.compiler.segment_texts
            self._fingerprints[top] = fingerprint_of(
                bytes(self._texts[top]),
                (texts.get(name, b"") for name in segments_used(definition)),
                (self._fingerprints[name] for name in needed),
            )
            stack.pop()
        return self._fingerprints[key]


class _Stub(msgspec.Struct, frozen=True, gc=False):
    """A table entry until its flag is compiled: small, not tracked by the collector.

    The tables hold the stubs, so a stub holding its ``LazyFlags`` strongly
    would make every snapshot a reference cycle, freed only by the garbage
    collector (and every stub a tracked object). It holds the ``LazyFlags``
    weakly, and the acyclic recipe strongly: a replaced snapshot is freed at
    once, and a stub that outlives it (a getter on another thread picked it
    just before a reload) still compiles and answers, only without caching.
    ``index`` is the table the stub stands in: it answers as that table's
    compiled entry will (an int view of a float flag, a constant).
    """

    flags: weakref.ReferenceType[LazyFlags]
    recipe: _Recipe
    key: str
    index: int

    def __call__(self, context: ContextLike) -> Outcome:
        """Compile the flag (which replaces this entry), then answer as the compiled entry."""
        try:
            flags = self.flags()  # None once the snapshot is gone: compile without caching
            if flags is None:
                tables = empty_tables()
                self.recipe.compile(self.key, {}, tables)
            else:
                flags.get(self.key)  # compiles the flag and installs its entries
                tables = flags.evaluator_tables
            entry = tables[self.index][self.key]
            if isinstance(entry, Resolution):
                return entry.outcome
            return entry(context)
        except Exception as exc:  # evaluation never raises
            return Resolution(
                self.key,
                reason=Reason.ERROR,
                error_code=ErrorCode.GENERAL,
                error_message=f"compiling the flag failed: {type(exc).__name__}: {exc}",
                has_value=False,
            ).outcome


def stub_tables(definition: Any, value_type: str) -> tuple[int, ...]:
    """Return the tables a flag's entries will be in, known before compiling it.

    The same rules as ``snapshot.install_entry``: a disabled flag without an
    off variant (a constant with no value) is in every table; an int flag
    in the float table too; a float flag with an integral variant has an int
    view in the int table.
    """
    if not definition.enabled and definition.off_variant is None:
        return _EVERY
    if value_type == "int":
        return _INT_AND_FLOAT
    if value_type == "float" and any(float(v).is_integer() for v in definition.variants.values()):
        return _FLOAT_AND_INT
    return _ONE[value_type]


_TABLE: dict[str, int] = {name: i for i, name in enumerate(VALUE_TYPES)}
_EVERY = tuple(range(len(VALUE_TYPES)))
_INT_AND_FLOAT = (_TABLE["int"], _TABLE["float"])
_FLOAT_AND_INT = (_TABLE["float"], _TABLE["int"])
_ONE: dict[str, tuple[int, ...]] = {name: (i,) for name, i in _TABLE.items()}


def empty_tables() -> EvaluatorTables:
    """Return one empty evaluator table per value type."""
    return tuple({} for _ in VALUE_TYPES)
