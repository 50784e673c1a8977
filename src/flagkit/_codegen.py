"""Generate one flat Python function per flag from its compiled plan.

A flag with rules would otherwise evaluate as a tree of closures (rule ->
all-of -> condition -> attribute getter -> test), one Python call per node.
Generating a single function removes those calls: the common conditions
(string equality and set membership on an attribute) and rollouts become
inline expressions, and everything else calls its compiled predicate.

Safety: the generated *source* contains only this module's templates and
identifiers it numbers itself (``_k0``, ``_k1``, ...). Every value taken
from a flag document (attribute names, operands, salts, resolutions) is
passed in the function's namespace, never spliced into source, so a hostile
flag file cannot inject code. Sources are cached by text: flags of the same
shape share one code object and differ only in their namespace.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import Any

from flagkit._bucketing import PERCENT_TOTAL, encodes_as_utf8
from flagkit._bucketing import _hash as murmur3
from flagkit._snapshot import Evaluator, Outcome, Resolution

__all__ = ["Check", "Split", "generate_evaluator"]

Context = Mapping[str, Any]

_MAX_CACHED_SHAPES = 2048
_shapes: dict[str, CodeType] = {}


@dataclass(frozen=True, slots=True)
class Check:
    """One condition of a rule, as generated code will test it.

    ``kind`` is ``"in"`` (a string value in a frozenset of strings), ``"eq"``
    (a string value equal to one string) or ``"call"`` (``test(ctx)``).
    ``getter`` reads a nested attribute; ``attribute`` names a flat one.
    """

    kind: str
    operand: Any
    attribute: str | None = None
    getter: Callable[[Context], Any] | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """A rollout without a schedule, inlined as hash, scale and compare."""

    salt: str
    bounds: tuple[tuple[int, Resolution], ...]
    missing: Outcome
    attribute: str | None = None
    getter: Callable[[Context], Any] | None = None


#: How a rule (or the default) serves: a fixed outcome, an inline split, or a call.
Serve = Outcome | Split | Evaluator


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = ["def evaluate(ctx):", "    get = ctx.get"]
        self.names: dict[str, Any] = {
            "__builtins__": builtins.__dict__,
            "_hash": murmur3,
            "_total": PERCENT_TOTAL,
            "_utf8": encodes_as_utf8,
        }

    def bind(self, value: Any) -> str:
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append(" " * indent + line)

    def read(self, attribute: str | None, getter: Callable[[Context], Any] | None) -> str:
        if getter is not None:
            return f"{self.bind(getter)}(ctx)"
        return f"get({self.bind(attribute)})"

    def check(self, check: Check) -> str:
        operand = self.bind(check.operand)
        if check.kind == "call":
            return f"{operand}(ctx)"
        value = self.read(check.attribute, check.getter)
        if check.kind == "eq":
            return f"{value} == {operand}"
        return f"(type(v := {value}) is str and v in {operand})"

    def serve(self, indent: int, serve: Serve) -> None:
        if isinstance(serve, tuple):
            self.emit(indent, f"return {self.bind(serve)}")
        elif isinstance(serve, Split):
            self.split(indent, serve)
        else:
            self.emit(indent, f"return {self.bind(serve)}(ctx)")

    def split(self, indent: int, split: Split) -> None:
        self.emit(indent, f"k = {self.read(split.attribute, split.getter)}")
        self.emit(indent, "if type(k) is not str:")
        self.emit(indent + 4, "if type(k) is not int:")
        self.emit(indent + 8, f"return {self.bind(split.missing)}")
        self.emit(indent + 4, "k = str(k)")
        # mmh3 crashes the process on strings UTF-8 cannot encode (lone
        # surrogates, which json.loads accepts); ASCII, the common case, is
        # proven safe by one O(1) flag check.
        self.emit(indent, "elif not k.isascii() and not _utf8(k):")
        self.emit(indent + 4, f"return {self.bind(split.missing)}")
        self.emit(indent, f"b = (_hash({self.bind(split.salt)} + k, 0, False) * _total) >> 32")
        *leading, (_, last) = split.bounds
        for bound, resolution in leading:
            self.emit(indent, f"if b < {self.bind(bound)}:")
            self.emit(indent + 4, f"return ({self.bind(resolution)}, b)")
        self.emit(indent, f"return ({self.bind(last)}, b)")


def generate_evaluator(
    prerequisites: Sequence[tuple[Evaluator, frozenset[str]]],
    failed: Outcome | None,
    rules: Sequence[tuple[Sequence[Check], Serve]],
    default: Serve,
) -> Evaluator:
    """Return one generated function evaluating a flag's plan in order."""
    writer = _Writer()
    for prerequisite, allowed in prerequisites:
        writer.emit(
            4,
            f"if {writer.bind(prerequisite)}(ctx)[0].variant not in {writer.bind(allowed)}: "
            f"return {writer.bind(failed)}",
        )
    for checks, serve in rules:
        writer.emit(4, f"if {' and '.join(writer.check(c) for c in checks)}:")
        writer.serve(8, serve)
    writer.serve(4, default)
    source = "\n".join(writer.lines)
    code = _shapes.get(source)
    if code is None:
        code = compile(source, "<flagkit generated evaluator>", "exec")
        if len(_shapes) < _MAX_CACHED_SHAPES:
            _shapes[source] = code
    namespace = writer.names
    exec(code, namespace)  # the source is ours alone: see the module docstring
    evaluate: Evaluator = namespace["evaluate"]
    return evaluate
