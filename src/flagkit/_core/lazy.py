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

from collections.abc import Callable, Iterator, Mapping
from typing import Any

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

__all__ = ["LazyFlags", "empty_tables"]

#: Turns a flag's kept text into its definition (``_definitions.shapes.decode_flag``).
Decode = Callable[[Any], Any]


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
        self._compiler = compiler
        self._compiled: dict[str, CompiledFlag] = {}
        self._fingerprints: dict[str, str] = {}
        self.evaluator_tables = tables

    def stub(self, key: str) -> Callable[[ContextLike], Outcome]:
        """Return the table entry that compiles ``key`` on its first evaluation."""
        return _Stub(self, key)

    def __getitem__(self, key: str) -> CompiledFlag:
        flag = self._compiled.get(key)
        if flag is None:
            if key not in self._texts:
                raise KeyError(key)
            flag = self._compile(key)
        return flag

    def get(self, key: str, default: Any = None) -> Any:
        """Return the compiled flag ``key`` (compiling it now), or ``default``."""
        flag = self._compiled.get(key)
        if flag is not None:
            return flag
        return self._compile(key) if key in self._texts else default

    def __contains__(self, key: object) -> bool:
        return key in self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def compiled_count(self) -> int:
        """Return how many flags have been compiled so far."""
        return len(self._compiled)

    def _compile(self, key: str) -> CompiledFlag:
        """Compile ``key`` and the prerequisites it needs first (a loop: chains may be long)."""
        decoded: dict[str, Any] = {}
        stack = [key]
        while stack:
            top = stack[-1]
            if top in self._compiled:
                stack.pop()
                continue
            definition = decoded.get(top)
            if definition is None:
                definition = decoded[top] = self._decode(self._texts[top])
            pending = [p.flag for p in definition.prerequisites if p.flag not in self._compiled]
            if pending:
                stack.extend(pending)  # validation guarantees they exist and form no cycle
                continue
            prerequisites = [
                (self._compiled[p.flag], frozenset(p.variants)) for p in definition.prerequisites
            ]
            compiled = self._compiler.flag(
                top, definition, prerequisites, text=bytes(self._texts[top])
            )
            compiled = self._compiled.setdefault(top, compiled)
            self._fingerprints.setdefault(top, compiled.fingerprint)
            install_entry(self.evaluator_tables, compiled)
            stack.pop()
        return self._compiled[key]

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
            texts = self._compiler.segment_texts
            self._fingerprints[top] = fingerprint_of(
                bytes(self._texts[top]),
                (texts.get(name, b"") for name in segments_used(definition)),
                (self._fingerprints[name] for name in needed),
            )
            stack.pop()
        return self._fingerprints[key]


class _Stub:
    """A table entry until its flag is compiled: one small object per flag."""

    __slots__ = ("flags", "key")

    def __init__(self, flags: LazyFlags, key: str) -> None:
        self.flags = flags
        self.key = key

    def __call__(self, context: ContextLike) -> Outcome:
        """Compile the flag (which replaces this entry), then evaluate it."""
        try:
            flag = self.flags[self.key]
        except Exception as exc:  # evaluation never raises
            return Resolution(
                self.key,
                reason=Reason.ERROR,
                error_code=ErrorCode.GENERAL,
                error_message=f"compiling the flag failed: {type(exc).__name__}: {exc}",
                has_value=False,
            ).outcome
        return flag.evaluate(context)


def empty_tables() -> EvaluatorTables:
    """Return one empty evaluator table per value type."""
    return tuple({} for _ in VALUE_TYPES)
