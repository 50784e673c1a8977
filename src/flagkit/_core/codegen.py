"""Render a flag's plan into one flat Python function.

A flag with rules would otherwise evaluate as a tree of closures (rule ->
all-of -> condition -> attribute getter -> test), one Python call per node.
Rendering the plan (``plan.Plan``) as a single function removes those
calls: the common conditions (string equality and set membership on an
attribute) and rollouts become inline expressions, and everything else
calls its compiled predicate.

A plan whose rollouts report their bucket (the native format's details
carry it) renders twice, from one source: ``evaluate`` returns the
resolution and the bucket, and ``evaluate_fast``, which the typed getters
call, the same resolution alone. Without a bucket to return, a rollout
compares the hash itself with precomputed bounds (``bucketing.hash_bound``)
and returns a prebuilt outcome: no multiply, no shift, no tuple per call.

The same templates render *fragments* for ``explain``: one check
(``check_function``) or one serve (``serve_function``). Explain runs
exactly the code the evaluator runs, so the two cannot disagree.

Safety: the generated *source* holds only this module's templates and
names it derives from positions in the plan (``_r0c1`` is rule 0's check
1, ``_d_salt`` the default rollout's salt). Every value taken from a flag
document (attribute names, operands, salts, resolutions) is passed as an
argument of the generated ``bind`` function, whose closures the evaluators
are, never spliced into source, so a hostile flag file cannot inject code.
Sources are cached by shape: flags of the same shape share one code object
and one globals dict, and differ only in the values they were bound to.

Hostile values: bucketing hashes bytes flagkit encoded itself from an exact
``str`` (``type(k) is str``: a subclass cannot fake that), so mmh3 never
sees a string that could crash it; string tests compare exact strings,
so an object whose ``__eq__`` always answers True matches nothing.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import mmh3

from flagkit._core import rollouts
from flagkit._core.bucketing import hash_bound
from flagkit._core.conditions import string_equal, string_member
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.plan import Call, Check, Plan, Ramp, Serve
from flagkit._core.snapshot import CompiledFlag, Evaluator, Resolution
from flagkit._types import ContextLike

__all__ = [
    "check_function",
    "compiled_flag",
    "refused_flag",
    "render",
    "render_both",
    "serve_function",
]

Token = tuple[Any, ...]

#: Distinct shapes kept compiled (oldest dropped first); flags of one shape share one.
MAX_CACHED_SHAPES = 2048
_shapes: dict[tuple[tuple[Token, ...], tuple[str, ...] | None], tuple[Any, str]] = {}
_serial = itertools.count()

_BASE_NAMES: dict[str, Any] = {
    "__builtins__": builtins.__dict__,
    # Takes bytes only (a str is a TypeError, never a crash), unsigned, seed 0.
    "_hash": mmh3.mmh3_32_uintdigest,
    "_equal": string_equal,
    "_member": string_member,
    "_step": rollouts.step_index,
}


class _Shape:
    """Walk a plan into shape tokens and the namespace binding each name.

    Names come from positions in the plan, so two plans of one shape give
    equal tokens and one cached code object serves both.
    """

    def __init__(self) -> None:
        self.tokens: list[Token] = []
        self.namespace: dict[str, Any] = {}
        #: Whether some serve reports a bucket: then ``evaluate_fast`` is a function of its own.
        self.reports = False

    def bind(self, name: str, value: Any) -> str:
        self.namespace[name] = value
        return name

    def plan(self, plan: Plan) -> None:
        if plan.disabled is not None:
            self.tokens.append(("fixed", self.bind("_off", plan.disabled)))
            return
        for i, gate in enumerate(plan.gates):
            name = self.bind(f"_pre{i}", gate.flag.evaluate_fast)
            self.bind(f"{name}_allowed", gate.allowed)
            self.bind(f"{name}_failed", gate.failed)
            self.tokens.append(("pre", name))
        for r, rule in enumerate(plan.rules):
            self.tokens.append(("rule", len(rule.checks)))
            self.tokens.extend(
                self.check(check, f"_r{r}c{c}") for c, check in enumerate(rule.checks)
            )
            self.tokens.append(self.serve(rule.serve, f"_r{r}"))
        self.tokens.append(self.serve(plan.default, "_d"))

    def read(self, attribute: str, getter: Callable[[ContextLike], Any] | None, name: str) -> bool:
        """Bind an attribute read; return True when it is a flat ``get``."""
        self.bind(f"{name}_at", attribute if getter is None else getter)
        return getter is None

    def check(self, check: Check, name: str) -> Token:
        self.bind(name, check.operand)
        if check.kind == "call":
            return ("call", name)
        if check.other is not None:
            self.bind(f"{name}_other", check.other)
        flat = self.read(check.attribute, check.getter, name)
        return (check.kind, flat, name, check.other is not None)

    def serve(self, serve: Serve, name: str) -> Token:
        if isinstance(serve, tuple):
            return ("fixed", self.bind(name, serve))
        if isinstance(serve, Call):
            return ("call", self.bind(name, serve.evaluate))
        if isinstance(serve, Ramp):
            steps = [_serve_functions(step) for step in serve.steps]
            self.bind(f"{name}_steps", tuple(evaluate for evaluate, _ in steps))
            self.bind(f"{name}_fast_steps", tuple(fast for _, fast in steps))
            self.bind(f"{name}_times", serve.times)
            self.bind(f"{name}_clock", serve.clock)
            self.reports = True
            return ("ramp", name)
        flat = self.read(serve.attribute, serve.getter, name)
        for role, value in (
            ("key", serve.key_of),
            ("salt", serve.salt),
            ("total", serve.total),
            ("missing", serve.missing),
            ("seed", serve.seed),
            ("fallback", serve.fallback),
        ):
            self.bind(f"{name}_{role}", value)
        bounds = serve.bounds
        for i, (bound, resolution) in enumerate(bounds):
            self.bind(f"{name}_o{i}", resolution.outcome)
            if serve.modulo or serve.report_bucket:  # bounds on the bucket
                self.bind(f"{name}_b{i}", bound)
            if not serve.modulo:  # bounds on the hash, for ``evaluate_fast``
                self.bind(f"{name}_h{i}", hash_bound(bound, serve.total))
            if serve.report_bucket:  # reported with the bucket, by ``evaluate``
                self.bind(f"{name}_r{i}", resolution)
        self.reports = self.reports or serve.report_bucket
        shape = (serve.report_bucket, serve.modulo, serve.fallback is not None)
        return ("split", flat, len(bounds), *shape, name)


class _Renderer:
    """Turn shape tokens into one function's source lines (the names are in the tokens).

    ``fast`` renders ``evaluate_fast``: every rollout returns its prebuilt
    outcome, with no bucket.
    """

    def __init__(self, *, fast: bool) -> None:
        self.fast = fast
        self.lines: list[str] = [f"def {'evaluate_fast' if fast else 'evaluate'}(ctx):"]

    def emit(self, indent: int, line: str) -> None:
        self.lines.append(" " * indent + line)

    @staticmethod
    def read(flat: bool, name: str) -> str:
        # ``ctx.get(...)`` at each read: CPython calls a method in place
        # faster than it binds ``get = ctx.get`` once and calls that.
        return f"ctx.get({name}_at)" if flat else f"{name}_at(ctx)"

    def check(self, token: Token) -> str:
        if token[0] == "call":
            return f"{token[1]}(ctx)"
        kind, flat, name, other = token
        value = self.read(flat, name)
        # Exact strings take the fast branch; anything else (StrEnum, an
        # object lying about itself) is compared by its string value, if any,
        # or by the format's own test (``Check.other``).
        if kind == "eq":
            slow = f"{name}_other(v)" if other else f"_equal(v, {name})"
            return f"(v == {name} if type(v := {value}) is str else {slow})"
        slow = f"{name}_other(v)" if other else f"_member(v, {name})"
        return f"(v in {name} if type(v := {value}) is str else {slow})"

    def serve(self, indent: int, token: Token) -> None:
        kind = token[0]
        if kind == "fixed":
            self.emit(indent, f"return {token[1]}")
        elif kind == "call":
            self.emit(indent, f"return {token[1]}(ctx)")
        elif kind == "ramp":
            name = token[1]
            steps = f"{name}_fast_steps" if self.fast else f"{name}_steps"
            self.emit(indent, f"return {steps}[_step({name}_times, {name}_clock())](ctx)")
        else:
            self.split(indent, token)

    def split(self, indent: int, token: Token) -> None:
        _, flat, bounds, report, modulo, fallback, name = token
        self.emit(indent, f"k = {self.read(flat, name)}")
        # An exact non-empty str is hashed at once; anything else (an empty
        # key counts as missing, as in flagd) asks the key function.
        self.emit(indent, "if type(k) is not str or not k:")
        if fallback:  # an absent attribute reads the fallback instead
            self.emit(indent + 4, f"k = {name}_key(k) if k is not None else {name}_fallback(ctx)")
        else:
            self.emit(indent + 4, f"k = {name}_key(k)")
        # Whatever a format's reader returns, only an exact str is hashed.
        self.emit(indent + 4, "if type(k) is not str:")
        self.emit(indent + 8, f"return {name}_missing")
        report = report and not self.fast
        self.emit(indent, "try:")
        data = f"({name}_salt + k).encode()"
        # ``b`` is a bucket, compared with the bucket bounds ``_b0``...; ``h``
        # a hash, compared with the hash bounds ``_h0``... (``hash_bound``).
        if modulo:  # Unleash's normalisation: the hash with its seed, modulo the total
            self.emit(indent + 4, f"b = _hash({data}, {name}_seed) % {name}_total")
            var = "b"
        elif report:
            self.emit(indent + 4, f"b = (_hash({data}) * {name}_total) >> 32")
            var = "b"
        else:  # no bucket to report: the same ranges, two integer operations fewer
            self.emit(indent + 4, f"h = _hash({data})")
            var = "h"
        self.emit(indent, "except UnicodeEncodeError:")
        self.emit(indent + 4, f"return {name}_missing")
        for i in range(bounds):
            result = f"({name}_r{i}, b)" if report else f"{name}_o{i}"
            if i < bounds - 1:
                self.emit(indent, f"if {var} < {name}_{var}{i}:")
                self.emit(indent + 4, f"return {result}")
            else:
                self.emit(indent, f"return {result}")

    def render(self, tokens: Sequence[Token]) -> str:
        items = iter(tokens)
        for token in items:
            if token[0] == "pre":
                name = token[1]
                self.emit(4, f"if {name}(ctx)[0].variant not in {name}_allowed:")
                self.emit(8, f"return {name}_failed")
            elif token[0] == "rule":
                checks = [self.check(next(items)) for _ in range(token[1])]
                # A rule without checks (a foreign format's unconditional rule) always holds.
                self.emit(4, f"if {' and '.join(checks) or 'True'}:")
                self.serve(8, next(items))
            elif token[0] == "test":
                self.emit(4, f"return {self.check(token[1])}")
            elif token[0] == "guard":
                continue  # wraps the whole body: see the end
            else:  # the default
                self.serve(4, token)
        if tokens and tokens[0][0] == "guard":
            # Only an exact dict takes the rendered path, and anything it
            # raises hands the call to the fallback (see ``render``).
            body = ["    " + line for line in self.lines[1:]]
            self.lines[1:] = [
                "    if type(ctx) is not dict:",
                "        return _fallback(ctx)",
                "    try:",
                *body,
                "    except Exception:",
                "        return _fallback(ctx)",
            ]
        return "\n".join(self.lines) + "\n"


def _source(tokens: Sequence[Token], names: Sequence[str] | None, *, reports: bool) -> str:
    """Return the module source: ``bind(names...)``, returning ``evaluate`` and ``evaluate_fast``.

    The flag's values are ``bind``'s parameters, so each flag's functions
    read them from their closure. Every flag of a shape then shares one
    globals dict (``_BASE_NAMES``): CPython's caches for global and
    builtin names (``type``, ``_hash``) stay valid from one flag to the
    next, where a namespace per flag would invalidate them whenever
    flags of one shape are evaluated in turn. With ``names`` None, the
    functions alone, reading their values as globals (``own_globals``).
    """
    functions = [_Renderer(fast=False).render(tokens)]
    if reports:
        functions.append(_Renderer(fast=True).render(tokens))
    if names is None:
        return "\n\n".join(functions)
    body = "\n".join(textwrap.indent(function, "    ") for function in functions)
    returned = "evaluate, evaluate_fast" if reports else "evaluate, evaluate"
    return f"def bind({', '.join(names)}):\n{body}\n    return {returned}\n"


def _functions(shape: _Shape, label: str, *, own_globals: bool = False) -> tuple[Any, Any]:
    """Return ``evaluate`` and ``evaluate_fast`` as the shape renders them (one, when equal)."""
    names = None if own_globals else tuple(sorted(shape.namespace))
    key = (tuple(shape.tokens), names)
    cached = _shapes.get(key)
    if cached is None:
        source = _source(key[0], names, reports=shape.reports)
        # A file name of its own per shape, registered in linecache, so a
        # traceback or a debugger shows the generated line.
        filename = f"<flagkit plan {next(_serial)}>"
        code = compile(source, filename, "exec")
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        if len(_shapes) >= MAX_CACHED_SHAPES:  # drop the oldest shape and its lines
            _, dropped = _shapes.pop(next(iter(_shapes)))
            linecache.cache.pop(dropped, None)
        made: Any = code
        if not own_globals:  # the shape's ``bind``, defined once in globals its flags share
            shared = dict(_BASE_NAMES)
            exec(code, shared)  # the source is ours alone: see the module docstring
            made = shared["bind"]
        cached = _shapes[key] = (made, filename)
    if own_globals:
        module = shape.namespace
        module.update(_BASE_NAMES)
        exec(cached[0], module)  # the source is ours alone: see the module docstring
        evaluate = module["evaluate"]
        fast = module.get("evaluate_fast", evaluate)
    else:
        evaluate, fast = cached[0](**shape.namespace)
    evaluate.__qualname__ = f"evaluate[{label}]"
    if fast is not evaluate:
        fast.__qualname__ = f"evaluate_fast[{label}]"
    return evaluate, fast


def render_both(
    plan: Plan, *, fallback: Evaluator | None = None, own_globals: bool = False
) -> tuple[Evaluator, Evaluator]:
    """Return ``plan``'s evaluator and its fast twin (the same resolutions, no bucket).

    They are one function unless a rollout of the plan reports its bucket.
    With ``fallback``, the functions evaluate an exact ``dict`` context only,
    and hand any other context, or a call in which anything raises, to
    ``fallback``: a foreign format's translated rule (flagd) keeps its own
    evaluator for what the translation does not cover. A ``try`` costs
    nothing until something raises (CPython 3.11+).

    With ``own_globals``, the functions read the flag's values as globals
    of their own (a dict per flag) instead of from a closure, so their
    ``__code__`` can move into another function object with those globals
    (flagd's translating evaluator does that).
    """
    if isinstance(plan.default, Call) and not (plan.rules or plan.gates or plan.disabled):
        # A plan that is one call (a foreign format's compiled targeting) is
        # that call: a generated wrapper would only add a frame and a namespace.
        return plan.default.evaluate, plan.default.evaluate
    shape = _Shape()
    if fallback is not None:
        shape.tokens.append(("guard", shape.bind("_fallback", fallback)))
    shape.plan(plan)
    both: tuple[Evaluator, Evaluator] = _functions(shape, plan.flag_key, own_globals=own_globals)
    return both


def render(
    plan: Plan, *, fallback: Evaluator | None = None, own_globals: bool = False
) -> Evaluator:
    """Return the one generated function that evaluates ``plan`` (see ``render_both``)."""
    return render_both(plan, fallback=fallback, own_globals=own_globals)[0]


def compiled_flag(plan: Plan, **fields: Any) -> CompiledFlag:
    """Return the flag ``plan`` describes, its evaluators rendered (fields: ``CompiledFlag``'s)."""
    evaluate, fast = render_both(plan)
    return CompiledFlag(plan.flag_key, plan=plan, evaluate=evaluate, evaluate_fast=fast, **fields)


def refused_flag(key: str, message: str, **fields: Any) -> CompiledFlag:
    """Return a flag that could not be compiled: every getter gets ERROR/PARSE_ERROR.

    One bad flag is isolated rather than taking the document down (DESIGN
    invariant 4); ``message`` says where and why.
    """
    outcome = Resolution(
        key,
        reason=Reason.ERROR,
        error_code=ErrorCode.PARSE_ERROR,
        error_message=message,
        has_value=False,
    ).outcome
    fields.setdefault("value_type", "bool")
    fields.setdefault("variants", {})
    return compiled_flag(Plan(key, default=outcome), **fields)


def _serve_functions(serve: Serve) -> tuple[Evaluator, Evaluator]:
    """Return ``serve`` alone as ``evaluate`` and ``evaluate_fast`` (see ``render_both``)."""
    shape = _Shape()
    shape.tokens.append(shape.serve(serve, "_d"))
    both: tuple[Evaluator, Evaluator] = _functions(shape, "serve")
    return both


def serve_function(serve: Serve) -> Evaluator:
    """Return a function serving ``serve`` alone, from the evaluator's templates."""
    return _serve_functions(serve)[0]


def check_function(check: Check) -> Callable[[ContextLike], bool]:
    """Return a function testing ``check`` alone, from the evaluator's templates."""
    shape = _Shape()
    shape.tokens.append(("test", shape.check(check, "_c")))
    test: Callable[[ContextLike], bool] = _functions(shape, "check")[0]
    return test
