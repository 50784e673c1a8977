"""The measuring side: timed batches, correctness checks, profiles, load children."""

from __future__ import annotations

import cProfile
import gc
import json
import math
import os
import pstats
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .netguard import guard
from .sdks import Evaluator, load_adapter
from .workload import CASES, MISSING_KEY, SPLIT_WEIGHTS, User, reference_rule

__all__ = ["CaseSamples", "load_child", "profile_calls", "rss_bytes", "run_case"]

_CONSTANT, _ROLLOUT, _RULE, _SPLIT = "constant", "rollout-10", "rule", "split"


def run_case(evaluator: Evaluator, case: str, contexts: Sequence[Any]) -> tuple[int, list[Any]]:
    """Time one batch of ``case`` over ``contexts``; return (elapsed ns, values).

    Each case is its own list comprehension so that no extra call layer sits
    between the loop and the SDK; the floor pays the same loop cost.
    """
    boolean, string = evaluator.bool_value, evaluator.str_value
    all_four = evaluator.all_four
    assert all_four is not None
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        if case == "constant":
            start = clock()
            values = [boolean(_CONSTANT, ctx) for ctx in contexts]
        elif case == "rollout-10%":
            start = clock()
            values = [boolean(_ROLLOUT, ctx) for ctx in contexts]
        elif case == "rule":
            start = clock()
            values = [boolean(_RULE, ctx) for ctx in contexts]
        elif case == "split 34/33/33":
            start = clock()
            values = [string(_SPLIT, ctx) for ctx in contexts]
        elif case == "missing":
            start = clock()
            values = [boolean(MISSING_KEY, ctx) for ctx in contexts]
        elif case == "all-four":
            start = clock()
            values = [all_four(ctx) for ctx in contexts]
        else:
            raise ValueError(f"unknown case {case!r}")
        elapsed = clock() - start
    finally:
        gc.enable()
    return elapsed, values


@dataclass
class CaseSamples:
    """Per-round timings and every returned value, with the users they belong to."""

    ns_per_call: list[float] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def median(self) -> float:
        """Return the median over rounds of the mean ns per call in each round."""
        return statistics.median(self.ns_per_call) if self.ns_per_call else math.nan


def _tolerance(share: float, count: int) -> float:
    # Four binomial standard deviations, never tighter than two points.
    return max(0.02, 4 * math.sqrt(share * (1 - share) / max(count, 1)))


def check(samples: dict[str, CaseSamples]) -> dict[str, Any]:
    """Check the values one SDK returned against the reference; return a summary."""
    problems: list[str] = []
    constant = samples["constant"].values
    if not all(value is True for value in constant):
        problems.append("constant not always true")
    rollout = samples["rollout-10%"].values
    rollout_share = sum(value is True for value in rollout) / max(len(rollout), 1)
    if abs(rollout_share - 0.10) > _tolerance(0.10, len(rollout)):
        problems.append(f"rollout share {rollout_share:.3f}")
    rule = samples["rule"]
    mismatches = sum(
        (value is True) != reference_rule(user)
        for value, user in zip(rule.values, rule.users, strict=True)
    )
    if mismatches:
        problems.append(f"rule: {mismatches} mismatches")
    split = samples["split 34/33/33"].values
    counts = Counter(split)
    split_shares = {name: counts.get(name, 0) / max(len(split), 1) for name, _ in SPLIT_WEIGHTS}
    for name, weight in SPLIT_WEIGHTS:
        if abs(split_shares[name] - weight / 100) > _tolerance(weight / 100, len(split)):
            problems.append(f"split share {name}={split_shares[name]:.3f}")
    if any(samples["missing"].values):
        problems.append("missing flag not served the default")
    four = samples["all-four"]
    four_mismatches = sum(
        (values[2] is True) != reference_rule(user)
        for values, user in zip(four.values, four.users, strict=True)
    )
    if four_mismatches:
        problems.append(f"all-four rule: {four_mismatches} mismatches")
    return {
        "users": {case: len(samples[case].values) for case in CASES},
        "rollout_share": rollout_share,
        "split_shares": split_shares,
        "rule_mismatches": mismatches,
        "ok": not problems,
        "problems": problems,
    }


def profile_calls(evaluator: Evaluator, users: Sequence[User], top: int = 12) -> dict[str, Any]:
    """Profile the all-four path over ``users`` with cProfile; return the top functions."""
    assert evaluator.all_four is not None
    contexts = [evaluator.context(user) for user in users]
    all_four = evaluator.all_four
    profiler = cProfile.Profile()
    profiler.enable()
    for ctx in contexts:
        all_four(ctx)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in raw.items():
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({function})",
                "calls_per_user": calls / len(users),
                "tottime_us_per_user": tottime * 1e6 / len(users),
                "cumtime_us_per_user": cumtime * 1e6 / len(users),
            }
        )
    rows.sort(key=lambda row: row["tottime_us_per_user"], reverse=True)
    total = sum(row["tottime_us_per_user"] for row in rows)
    return {"users": len(users), "total_us_per_user": total, "top": rows[:top]}


def _short(filename: str) -> str:
    marker = "site-packages" + os.sep
    if marker in filename:
        return filename.split(marker, 1)[1]
    if "src" + os.sep + "flagkit" in filename:
        return "flagkit" + filename.split("src" + os.sep + "flagkit", 1)[1]
    return filename


def rss_bytes() -> int:
    """Return the current resident set size of this process in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss_reset() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); return whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int:
    """Return the peak resident set size since the last reset (``VmHWM``), in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def load_child(name: str, path: Path, probe_user: User) -> dict[str, Any]:
    """Import one SDK, load ``path`` and wait until ready; return time and RSS added.

    Runs in a fresh subprocess so that the RSS delta belongs to this load only.
    ``json.loads`` is the baseline: flagkit's file parsed with the garbage
    collector off (as the fastest parse of the same bytes can be).
    RSS added is the resident size after the load minus before (both after
    ``gc.collect()``); peak added is the highest resident size during the
    load minus before.
    """
    guard.install()
    guard.label = name
    start = time.perf_counter()
    adapter = None if name == "json.loads" else load_adapter(name)
    import_seconds = time.perf_counter() - start
    gc.collect()
    before = rss_bytes()
    peak_known = peak_rss_reset()
    start = time.perf_counter()
    if adapter is None:
        gc.disable()
        document = json.loads(path.read_bytes())
        load_seconds = time.perf_counter() - start
        gc.enable()
        ready: Any = document is not None
        close: Any = lambda: None  # noqa: E731
    else:
        evaluator = adapter.load(path)
        ready = evaluator.bool_value("constant", evaluator.context(probe_user))
        load_seconds = time.perf_counter() - start
        close = evaluator.close
    peak = peak_rss_bytes() if peak_known else 0
    gc.collect()
    after = rss_bytes()
    # A second load in the same, now warm process: what every reload costs
    # (a first load also pays for the modules an SDK imports only then).
    start = time.perf_counter()
    if adapter is None:
        gc.disable()
        json.loads(path.read_bytes())
        gc.enable()
    else:
        again = adapter.load(path)
        again.bool_value("constant", again.context(probe_user))
        again.close()
    warm_seconds = time.perf_counter() - start
    result = {
        "sdk": name,
        "import_seconds": import_seconds,
        "load_seconds": load_seconds,
        "warm_load_seconds": warm_seconds,
        "rss_added_bytes": after - before,
        "peak_added_bytes": max(peak, after) - before if peak_known else None,
        "ready_value": ready,
        "network_attempts": [
            {key: attempt[key] for key in ("sdk", "operation", "target")}
            for attempt in guard.attempts
        ],
    }
    close()
    return result


def dump(result: dict[str, Any]) -> str:
    """Serialise a child's result as one JSON line."""
    return json.dumps(result, default=str)
