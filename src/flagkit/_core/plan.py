"""A flag's plan: the one typed description of what evaluating it does.

Compilation (``compile``, and each foreign format's compiler) turns a
definition into a ``Plan``; everything else reads the plan:

* ``codegen`` renders it into one Python function, the evaluator;
* ``explain`` walks it and reports each step (and, through the same
  rendered fragments, runs exactly what the evaluator runs);
* simulate, diff, lint and ``flagkit.testing`` read its rollouts.

A plan runs in this order: the kill switch (``disabled``), the
prerequisite ``gates``, the ``rules`` in order (the first whose checks all
hold serves), then the ``default``. A serve is a fixed outcome, a
``Split`` (a rollout), a ``Ramp`` (a rollout whose weights change on a
schedule), or a ``Call`` (a compiled function, e.g. flagd's JSON Logic).
Every way a flag can resolve is a ``Resolution`` allocated here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from flagkit._core import rollouts
from flagkit._core.bucketing import MAX_TOTAL
from flagkit._types import Clock, ContextLike

if TYPE_CHECKING:
    from flagkit._core.snapshot import CompiledFlag, Evaluator, Outcome, Resolution

__all__ = [
    "Call",
    "Check",
    "CheckKind",
    "Gate",
    "Guard",
    "Metric",
    "MetricKind",
    "Plan",
    "Ramp",
    "Rule",
    "Serve",
    "Split",
]

Getter = Callable[[ContextLike], Any]
Predicate = Callable[[ContextLike], bool]
CheckKind = Literal["eq", "in", "call"]
MetricKind = Literal["error_rate", "latency", "event_rate", "event_mean"]


@dataclass(frozen=True, slots=True)
class Check:
    """One condition of a rule, as the evaluator tests it.

    ``kind`` is how the generated code tests it: ``"eq"`` (the value is the
    string ``operand``), ``"in"`` (a string in the frozenset ``operand``),
    or ``"call"`` (``operand(ctx)``, a compiled predicate). ``attribute``
    is the attribute read (dotted for nested; ``getter`` reads a nested
    one). ``op``, ``operands`` and ``negate`` are the condition as written;
    ``segments`` names the segment predicates of ``in_segment``. ``other``
    tests an ``"eq"``/``"in"`` value that is not an exact ``str`` (a
    foreign format's own comparison, e.g. flagd's loose ``==``); without it
    such a value is compared by its string value, if it has one.
    """

    kind: CheckKind
    operand: Any
    attribute: str
    getter: Getter | None
    op: str
    operands: tuple[Any, ...]
    negate: bool = False
    segments: tuple[tuple[str, Predicate], ...] = ()
    other: Callable[[Any], bool] | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """A rollout: bucket the attribute's value, serve the resolution of that range.

    ``bucket = (murmur3(utf8(salt + key)) * total) >> 32`` where ``key`` is
    ``key_of(value)``; a value with no key serves ``missing``. ``weights``
    are the resolutions in declared order with their weights (out of
    ``total``); ``report_bucket`` is False where the format does not
    report buckets (flagd). ``modulo`` and ``seed`` select Unleash's
    normalisation instead, ``bucket = murmur3(utf8(salt + key), seed) % total``
    (its ``normalizedHash`` minus the ``+ 1``): same hash, another reduction.
    ``fallback`` reads the key when the attribute is absent (None): Unleash's
    stickiness falls back from ``userId`` to ``sessionId`` to a random draw.
    """

    salt: str
    attribute: str
    getter: Getter | None
    key_of: Callable[[Any], str | None]
    weights: tuple[tuple[Resolution, int], ...]
    total: int
    missing: Outcome
    report_bucket: bool = True
    modulo: bool = False
    seed: int = 0
    fallback: Getter | None = None

    def __post_init__(self) -> None:
        # The generated code hashes ``(salt + key).encode()``: both must be
        # exact strings, or a subclass's ``__add__`` and ``encode`` would run.
        object.__setattr__(self, "salt", str.__str__(self.salt))
        if not 1 <= int.__index__(self.total) <= MAX_TOTAL:
            raise ValueError(f"a rollout's bucket space must be 1..2**32, not {self.total}")

    @property
    def bounds(self) -> tuple[tuple[int, Resolution], ...]:
        """Return the cumulative upper bound of each resolution of positive weight."""
        return rollouts.cumulative(self.weights)

    def shares(self) -> dict[str | None, float]:
        """Return each variant's expected share of users."""
        return rollouts.shares((r.variant, w) for r, w in self.weights)


@dataclass(frozen=True, slots=True)
class Ramp:
    """A rollout on a schedule: ``steps[i]`` is in force from ``times[i - 1]`` on.

    ``steps[0]`` (the rollout's own weights) applies before the first time.
    ``clock`` is the evaluator's clock, so tests and ``--at`` can set it.
    """

    times: tuple[float, ...]
    steps: tuple[Split, ...]
    clock: Clock

    def step_at(self, now: float) -> int:
        """Return the index of the step in force at ``now``."""
        return rollouts.step_index(self.times, now)


@dataclass(frozen=True, slots=True)
class Call:
    """Serve whatever a compiled function returns (a foreign format's targeting)."""

    evaluate: Evaluator
    description: str


#: How a rule (or the default) serves: a fixed outcome, a rollout, a ramp, or a call.
Serve: TypeAlias = "Outcome | Split | Ramp | Call"


@dataclass(frozen=True, slots=True)
class Rule:
    """A targeting rule: when every check holds, ``serve``."""

    name: str
    checks: tuple[Check, ...]
    serve: Serve


@dataclass(frozen=True, slots=True)
class Gate:
    """A prerequisite: ``flag`` must serve one of ``allowed``, else ``failed`` is served."""

    flag: CompiledFlag
    allowed: frozenset[str]
    failed: Outcome


@dataclass(frozen=True, slots=True)
class Metric:
    """One outcome a guard compares: its kind, the worse direction, the effect of interest.

    ``quantile`` is the control's latency quantile (latency only); ``event``
    the tracked event (event metrics only).
    """

    kind: MetricKind
    effect: float
    worse: Literal["higher", "lower"] = "higher"
    quantile: float = 0.95
    event: str | None = None

    @property
    def label(self) -> str:
        """Return a short name: ``error_rate``, ``latency p95``, ``event_mean(revenue)``."""
        if self.kind == "latency":
            return f"latency p{self.quantile * 100:g}"
        return self.kind if self.event is None else f"{self.kind}({self.event})"


@dataclass(frozen=True, slots=True)
class Guard:
    """A guarded rollout: compare ``treatments`` with ``control``, act on a regression.

    Not evaluated by the core: the client watches outcomes and, when the
    guard trips, swaps in the plan ``rolled_back`` or ``paused`` returns.
    ``serve`` names the guarded serve (a rule's name, or ``"default"``).
    """

    control: str
    treatments: tuple[str, ...]
    metrics: tuple[Metric, ...]
    alpha: float
    min_sample: int
    action: Literal["pause", "rollback"]
    rule: int | None


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a flag's evaluation does, in order (see the module docstring)."""

    flag_key: str
    default: Serve
    rules: tuple[Rule, ...] = ()
    gates: tuple[Gate, ...] = ()
    disabled: Outcome | None = None
    guard: Guard | None = None

    @property
    def constant(self) -> Outcome | None:
        """Return the one outcome of a plan that ignores the context, else None."""
        if self.disabled is not None:
            return self.disabled
        if not self.rules and not self.gates and isinstance(self.default, tuple):
            return self.default
        return None

    def serves(self) -> Iterator[tuple[str, Serve]]:
        """Yield ``(rule name or "default", serve)`` for each rule, then the default."""
        for rule in self.rules:
            yield rule.name, rule.serve
        yield "default", self.default

    def splits(self) -> Iterator[Split]:
        """Yield every rollout of the plan (each step of a ramp)."""
        for _, serve in self.serves():
            if isinstance(serve, Split):
                yield serve
            elif isinstance(serve, Ramp):
                yield from serve.steps

    def shares_at(self, now: float) -> dict[str | None, float] | None:
        """Return each variant's expected share when targeting cannot change it.

        None when rules or prerequisites decide some users (the shares then
        depend on the contexts) or the default is a compiled call. The
        variant None stands for the caller's default.
        """
        constant = self.constant
        if constant is not None:
            return {constant[0].variant: 1.0}
        if self.rules or self.gates:
            return None
        serve = self.default
        if isinstance(serve, Ramp):
            serve = serve.steps[serve.step_at(now)]
        if isinstance(serve, Split):
            return serve.shares()
        return None
