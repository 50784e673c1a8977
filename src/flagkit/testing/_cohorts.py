"""Cohorts for A/B tests: real keys in a given variant, and checks of a split.

Everything here runs the flag's real compiled evaluator (the same code a
client runs), never a re-implementation of the bucketing, so a key that
``cohort`` returns is served that variant in production too.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, overload

from flagkit._client.client import Client
from flagkit._core.snapshot import CompiledFlag, Snapshot
from flagkit._core.timeutil import as_utc
from flagkit._sources.pipeline import snapshot_from_data, snapshot_from_file
from flagkit._types import Clock
from flagkit.testing._errors import CohortNotFoundError, UnknownFlagError

__all__ = [
    "DEFAULT_LABEL",
    "FlagsLike",
    "SplitResult",
    "assert_split",
    "assignments",
    "chi_square_sf",
    "cohort",
    "split_check",
]

FlagsLike = Client | Snapshot | Mapping[str, Any] | str | os.PathLike[str]
ContextFactory = Callable[[str], Mapping[str, Any]]
#: The label of evaluations that served the caller's default (no variant).
DEFAULT_LABEL = "(default)"
#: How many candidate keys ``cohort`` tries per key asked for, at least.
SCAN_PER_KEY = 10_000
MIN_SCAN = 100_000


def _snapshot(flags: FlagsLike, at: dt.datetime | None) -> Snapshot:
    clock = None if at is None else _clock_at(at)
    if isinstance(flags, Client | Snapshot):
        if at is not None:
            raise ValueError("at= needs a document or a path (a client's clock is fixed)")
        return flags.snapshot if isinstance(flags, Client) else flags
    # auto: native, flagd and Unleash documents all work.
    if isinstance(flags, Mapping):
        return snapshot_from_data(
            flags, format="auto", clock=clock, keep_definitions=True, isolate=False
        )
    return snapshot_from_file(
        flags, format="auto", clock=clock, keep_definitions=True, isolate=False
    )


def _clock_at(at: dt.datetime) -> Clock:
    """Return a clock stopped at ``at``; a naive ``at`` is UTC, as evaluation reads it."""
    instant = as_utc(at).timestamp()
    return lambda: instant


def _flag(snapshot: Snapshot, flag_key: str) -> CompiledFlag:
    flag = snapshot.flags.get(flag_key)
    if flag is None:
        known = ", ".join(sorted(snapshot.flags)) or "none"
        raise UnknownFlagError(f"no flag {flag_key!r} (flags: {known})")
    return flag


def _context(key: str, factory: ContextFactory | None) -> Mapping[str, Any]:
    return {"targetingKey": key} if factory is None else factory(key)


def _variant(flag: CompiledFlag, context: Mapping[str, Any]) -> str | None:
    return flag.evaluate(context)[0].variant


@overload
def cohort(
    flags: FlagsLike,
    flag: str,
    variant: str,
    n: int,
    *,
    context_factory: None = None,
    start: int = 0,
    prefix: str = "user-",
    budget: int | None = None,
    at: dt.datetime | None = None,
) -> list[str]: ...


@overload
def cohort(
    flags: FlagsLike,
    flag: str,
    variant: str,
    n: int,
    *,
    context_factory: ContextFactory,
    start: int = 0,
    prefix: str = "user-",
    budget: int | None = None,
    at: dt.datetime | None = None,
) -> list[Mapping[str, Any]]: ...


def cohort(
    flags: FlagsLike,
    flag: str,
    variant: str,
    n: int,
    *,
    context_factory: ContextFactory | None = None,
    start: int = 0,
    prefix: str = "user-",
    budget: int | None = None,
    at: dt.datetime | None = None,
) -> list[str] | list[Mapping[str, Any]]:
    """Return ``n`` keys (or contexts from ``context_factory(key)``) served ``variant``.

    Candidates are ``f"{prefix}{i}"`` for ``i`` from ``start`` on, tried in
    order through the real evaluation, so the answer is deterministic.
    ``flags`` is a client, a snapshot, a document dict or a flag file path.
    Raise CohortNotFoundError when ``budget`` candidates (by default
    ``max(100_000, 10_000 * n)``) do not yield ``n``.
    """
    snapshot = _snapshot(flags, at)
    compiled = _flag(snapshot, flag)
    if variant not in compiled.variants:
        raise UnknownFlagError(
            f"flag {flag!r} has no variant {variant!r} (variants: {', '.join(compiled.variants)})"
        )
    limit = budget if budget is not None else max(MIN_SCAN, SCAN_PER_KEY * n)
    found_keys: list[str] = []
    found_contexts: list[Mapping[str, Any]] = []
    seen: Counter[str] = Counter()
    for i in range(start, start + limit):
        key = f"{prefix}{i}"
        context = _context(key, context_factory)
        served = _variant(compiled, context)
        seen[served or DEFAULT_LABEL] += 1
        if served == variant:
            found_keys.append(key)
            found_contexts.append(context)
            if len(found_keys) == n:
                return found_contexts if context_factory is not None else found_keys
    spread = ", ".join(f"{name}: {count}" for name, count in seen.most_common())
    raise CohortNotFoundError(
        f"only {len(found_keys)} of {n} keys land in variant {variant!r} of flag {flag!r} "
        f"after scanning {limit} candidates {prefix}{start}..{prefix}{start + limit - 1} "
        f"(served: {spread or 'nothing'}); is the variant reachable for contexts "
        f"{_context(f'{prefix}{start}', context_factory)!r}? A rollout by another attribute "
        "or a targeting rule needs a context_factory."
    )


def assignments(
    flags: FlagsLike,
    flag: str,
    keys: Iterable[str],
    *,
    context_factory: ContextFactory | None = None,
    at: dt.datetime | None = None,
) -> dict[str, str | None]:
    """Return the variant each targeting key is served (None: the caller's default)."""
    compiled = _flag(_snapshot(flags, at), flag)
    return {key: _variant(compiled, _context(key, context_factory)) for key in keys}


# -- the split check ------------------------------------------------------------------


def _lower_gamma_series(a: float, x: float) -> float:
    """Return the regularized lower incomplete gamma P(a, x) by its power series."""
    term = total = 1.0 / a
    n = a
    for _ in range(10_000):
        n += 1
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-15:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_gamma_fraction(a: float, x: float) -> float:
    """Return the regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi_square_sf(statistic: float, df: int) -> float:
    """Return P(X >= statistic) for a chi-square variable with ``df`` degrees of freedom.

    The survival function is the regularized upper incomplete gamma
    function Q(df/2, statistic/2) (Numerical Recipes, section 6.2): a power
    series below a + 1, a continued fraction above it.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if statistic <= 0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    a, x = df / 2.0, statistic / 2.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _lower_gamma_series(a, x))
    return min(1.0, _upper_gamma_fraction(a, x))


@dataclass(frozen=True, slots=True)
class SplitResult:
    """Observed against expected variant shares of one flag over a key sample."""

    flag: str
    sample: int
    observed: Mapping[str, int]
    expected: Mapping[str, float]
    statistic: float
    df: int
    p_value: float
    alpha: float

    @property
    def ok(self) -> bool:
        """Return True when the observed split is consistent with the expected one."""
        return self.p_value >= self.alpha

    def observed_shares(self) -> dict[str, float]:
        """Return each variant's observed share of the sample."""
        return {name: count / self.sample for name, count in self.observed.items()}

    def table(self) -> str:
        """Return a readable table: variant, expected and observed shares, counts."""
        names = list(self.expected) + [n for n in self.observed if n not in self.expected]
        width = max([len("variant"), *(len(n) for n in names)])
        lines = [f"{'variant':<{width}}  expected  observed     count"]
        for name in names:
            count = self.observed.get(name, 0)
            lines.append(
                f"{name:<{width}}  {self.expected.get(name, 0.0):>8.2%}  "
                f"{count / self.sample:>8.2%}  {count:>8}"
            )
        lines.append(
            f"chi-square {self.statistic:.3f} (df {self.df}), p-value {self.p_value:.3g}, "
            f"alpha {self.alpha:g}, sample {self.sample}"
        )
        return "\n".join(lines)

    def raise_for_split(self) -> SplitResult:
        """Raise AssertionError with the table unless the split is ``ok``; return self."""
        if not self.ok:
            raise AssertionError(
                f"flag {self.flag!r} does not split as expected "
                f"(p-value {self.p_value:.3g} < alpha {self.alpha:g}):\n{self.table()}"
            )
        return self


def split_check(
    flags: FlagsLike,
    flag: str,
    *,
    sample: int = 10_000,
    alpha: float = 0.001,
    expected: Mapping[str, float] | None = None,
    context_factory: ContextFactory | None = None,
    prefix: str = "user-",
    at: dt.datetime | None = None,
) -> SplitResult:
    """Evaluate ``sample`` keys and compare the variant counts with the expected shares.

    ``expected`` (variant -> share, or percentage: it is normalised) defaults
    to the flag's rollout weights in force, which needs the flag's definition
    (pass a document or a path) and a flag without rules or prerequisites.
    A chi-square goodness-of-fit test gives the p-value; ``ok`` means it is
    at least ``alpha``.
    """
    snapshot = _snapshot(flags, at)
    compiled = _flag(snapshot, flag)
    shares = _expected(compiled, expected, at)
    observed: Counter[str] = Counter()
    for i in range(sample):
        served = _variant(compiled, _context(f"{prefix}{i}", context_factory))
        observed[served or DEFAULT_LABEL] += 1
    statistic = 0.0
    for name, share in shares.items():
        if share > 0:
            wanted = sample * share
            statistic += (observed.get(name, 0) - wanted) ** 2 / wanted
    if any(count and shares.get(name, 0.0) == 0 for name, count in observed.items()):
        statistic = math.inf  # a variant that must never be served was served
    df = sum(1 for share in shares.values() if share > 0) - 1
    if df == 0:
        p_value = 1.0 if math.isfinite(statistic) else 0.0
    else:
        p_value = chi_square_sf(statistic, df)
    return SplitResult(flag, sample, dict(observed), shares, statistic, df, p_value, alpha)


def assert_split(flags: FlagsLike, flag: str, **options: Any) -> SplitResult:
    """Run ``split_check`` and raise AssertionError with a table if the split is off."""
    return split_check(flags, flag, **options).raise_for_split()


def _expected(
    flag: CompiledFlag, expected: Mapping[str, float] | None, at: dt.datetime | None
) -> dict[str, float]:
    if expected is None:
        now = dt.datetime.now(dt.UTC) if at is None else as_utc(at)
        shares = flag.plan.shares_at(now.timestamp())
        if shares is None:
            raise ValueError(
                f"flag {flag.key!r} has rules or prerequisites, so its split depends on "
                "the contexts: pass expected= (variant -> share)"
            )
        expected = {DEFAULT_LABEL if name is None else name: s for name, s in shares.items()}
    total = sum(expected.values())
    if total <= 0:
        raise ValueError("expected shares must add up to more than 0")
    return {name: share / total for name, share in expected.items()}
