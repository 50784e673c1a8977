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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import Any

from flagkit._core.bucketing import PERCENT_TOTAL, bucketing_key
from flagkit._core.bucketing import _hash as murmur3
from flagkit._core.conditions import string_member
from flagkit._core.snapshot import Evaluator, Outcome, Resolution
from flagkit._types import ContextLike

__all__ = ["Check", "Split", "generate_evaluator"]


_MAX_CACHED_SHAPES = 2048
_shapes: dict[tuple[tuple[Any, ...], ...], CodeType] = {}


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
    getter: Callable[[ContextLike], Any] | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """A rollout without a schedule, inlined as hash, scale and compare."""

    salt: str
    bounds: tuple[tuple[int, Resolution], ...]
    missing: Outcome
    attribute: str | None = None
    getter: Callable[[ContextLike], Any] | None = None


#: How a rule (or the default) serves: a fixed outcome, an inline split, or a call.
Serve = Outcome | Split | Evaluator


class _Plan:
    """A flag's evaluator as shape tokens plus the values they bind, in order.

    The tokens alone determine the source text (every bound value becomes
    the next ``_kN`` name), so flags of one shape share one compiled code
    object, and the source is only rendered the first time a shape is seen.
    """

    def __init__(self) -> None:
        self.tokens: list[tuple[Any, ...]] = []
        self.values: list[Any] = []

    def read(self, attribute: str | None, getter: Callable[[ContextLike], Any] | None) -> bool:
        """Bind an attribute read; return True when it is a flat ``get``."""
        self.values.append(attribute if getter is None else getter)
        return getter is None

    def check(self, check: Check) -> tuple[Any, ...]:
        if check.kind == "call":
            self.values.append(check.operand)
            return ("call",)
        flat = self.read(check.attribute, check.getter)
        self.values.append(check.operand)
        return (check.kind, flat)

    def serve(self, serve: Serve) -> tuple[Any, ...]:
        if isinstance(serve, tuple):
            self.values.append(serve)
            return ("fixed",)
        if isinstance(serve, Split):
            flat = self.read(serve.attribute, serve.getter)
            self.values.extend((serve.missing, serve.salt))
            for bound, resolution in serve.bounds[:-1]:
                self.values.extend((bound, resolution))
            self.values.append(serve.bounds[-1][1])
            return ("split", flat, len(serve.bounds))
        self.values.append(serve)
        return ("delegate",)


class _Renderer:
    """Turn shape tokens into source; names are handed out in binding order."""

    def __init__(self) -> None:
        self.lines: list[str] = ["def evaluate(ctx):", "    get = ctx.get"]
        self.count = 0

    def name(self) -> str:
        name = f"_k{self.count}"
        self.count += 1
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append(" " * indent + line)

    def read(self, flat: bool) -> str:
        return f"get({self.name()})" if flat else f"{self.name()}(ctx)"

    def check(self, token: tuple[Any, ...]) -> str:
        if token[0] == "call":
            return f"{self.name()}(ctx)"
        value = self.read(token[1])
        if token[0] == "eq":
            return f"{value} == {self.name()}"
        # Plain strings take the fast branch; subclasses (StrEnum) are
        # normalised first, since an Enum hashes by its name, not its value.
        members = self.name()
        return f"(v in {members} if (v := {value}).__class__ is str else _member(v, {members}))"

    def serve(self, indent: int, token: tuple[Any, ...]) -> None:
        if token[0] == "fixed":
            self.emit(indent, f"return {self.name()}")
        elif token[0] == "delegate":
            self.emit(indent, f"return {self.name()}(ctx)")
        else:
            self.split(indent, token[1], token[2])

    def split(self, indent: int, flat: bool, bounds: int) -> None:
        self.emit(indent, f"k = {self.read(flat)}")
        # mmh3 crashes the process on strings UTF-8 cannot encode (lone
        # surrogates, which json.loads accepts); ASCII, the common case, is
        # proven safe by one O(1) flag check. Anything else is normalised
        # (str subclasses, 64-bit ints) or refused by bucketing_key().
        self.emit(indent, "if k.__class__ is not str or not k.isascii():")
        self.emit(indent + 4, "k = _key(k)")
        self.emit(indent + 4, "if k is None:")
        self.emit(indent + 8, f"return {self.name()}")
        self.emit(indent, f"b = (_hash({self.name()} + k, 0, False) * _total) >> 32")
        for _ in range(bounds - 1):
            self.emit(indent, f"if b < {self.name()}:")
            self.emit(indent + 4, f"return ({self.name()}, b)")
        self.emit(indent, f"return ({self.name()}, b)")

    def render(self, tokens: Sequence[tuple[Any, ...]]) -> str:
        items = iter(tokens)
        for token in items:
            if token[0] == "pre":
                gate, allowed, failed = self.name(), self.name(), self.name()
                self.emit(4, f"if {gate}(ctx)[0].variant not in {allowed}: return {failed}")
            elif token[0] == "rule":
                checks = [self.check(next(items)) for _ in range(token[1])]
                self.emit(4, f"if {' and '.join(checks)}:")
                self.serve(8, next(items))
            else:  # the default
                self.serve(4, token)
        return "\n".join(self.lines)


_BASE_NAMES: dict[str, Any] = {
    "__builtins__": builtins.__dict__,
    "_hash": murmur3,
    "_total": PERCENT_TOTAL,
    "_key": bucketing_key,
    "_member": string_member,
}
_NAMES = [f"_k{i}" for i in range(64)]


def generate_evaluator(
    prerequisites: Sequence[tuple[Evaluator, frozenset[str]]],
    failed: Outcome | None,
    rules: Sequence[tuple[Sequence[Check], Serve]],
    default: Serve,
) -> Evaluator:
    """Return one generated function evaluating a flag's plan in order."""
    plan = _Plan()
    tokens = plan.tokens
    for prerequisite, allowed in prerequisites:
        plan.values.extend((prerequisite, allowed, failed))
        tokens.append(("pre",))
    for checks, serve in rules:
        tokens.append(("rule", len(checks)))
        tokens.extend([plan.check(c) for c in checks])
        tokens.append(plan.serve(serve))
    tokens.append(plan.serve(default))
    shape = tuple(tokens)
    code = _shapes.get(shape)
    if code is None:
        source = _Renderer().render(shape)
        code = compile(source, "<flagkit generated evaluator>", "exec")
        if len(_shapes) < _MAX_CACHED_SHAPES:
            _shapes[shape] = code
    values = plan.values
    names = _NAMES if len(values) <= len(_NAMES) else [f"_k{i}" for i in range(len(values))]
    namespace = dict(zip(names, values, strict=False))  # names may be longer
    namespace.update(_BASE_NAMES)
    exec(code, namespace)  # the source is ours alone: see the module docstring
    evaluate: Evaluator = namespace["evaluate"]
    return evaluate
