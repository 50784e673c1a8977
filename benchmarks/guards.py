"""Guard benchmark: false alarms and detection of guarded rollouts, by simulation.

Run: ``python benchmarks/guards.py`` (``--quick`` for 200 rollouts per case;
``--plot docs/img/guard-simulation.png`` draws the figure of
docs/monitoring.md, which needs the ``plots`` extra: ``pip install
flagkit[plots]``). Every case simulates ``--runs`` seeded rollouts through
``flagkit._client.simulation``, which applies the guard's test after every
call, beside a one-sided fixed-sample z-test also checked after every call.
The numbers are counts of simulated rollouts, so they do not depend on the
machine; only the run time does.
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from dataclasses import dataclass

from flagkit._client.simulation import Rollout, TripRate, error_outcome, latency_outcome, simulate

ALPHA = 0.05
POWER = 0.90
#: Log-normal wall times around 10 ms (median), sigma 0.5.
MU, SIGMA = math.log(0.010), 0.5


@dataclass(frozen=True)
class Case:
    """One simulated situation and what the guard must do in it."""

    name: str
    truth: str
    rollout: Rollout
    regression: bool


def cases(users_errors: int, users_latency: int) -> list[Case]:
    """Return the four cases of the table: A/A and A/B, on errors and on latency."""
    errors = {"effect": 0.005, "alpha": ALPHA, "min_sample": 500, "users": users_errors}
    latency = {
        "effect": 0.03,
        "alpha": ALPHA,
        "min_sample": 500,
        "users": users_latency,
        "metric": "latency",
        "quantile": 0.95,
    }
    return [
        Case("errors A/A", "1% and 1%", Rollout(error_outcome(0.01, 0.01), **errors), False),  # type: ignore[arg-type]
        Case("errors A/B", "1% -> 1.5%", Rollout(error_outcome(0.01, 0.015), **errors), True),  # type: ignore[arg-type]
        Case(
            "latency A/A",
            "same log-normal",
            Rollout(latency_outcome(MU, SIGMA, 1.0), **latency),  # type: ignore[arg-type]
            False,
        ),
        Case(
            "latency A/B",
            "treated 15% slower",
            Rollout(latency_outcome(MU, SIGMA, 1.15), **latency),  # type: ignore[arg-type]
            True,
        ),
    ]


def verdict(case: Case, rate: TripRate, guard: bool) -> str:
    """Return whether a row meets its target (the naive rows have none to meet)."""
    if not guard:
        return "-"
    if case.regression:
        return f">= {POWER:.0%} met" if rate.rate >= POWER else f">= {POWER:.0%} MISSED"
    return f"<= {ALPHA:.0%} met" if rate.rate <= ALPHA else f"<= {ALPHA:.0%} MISSED"


def row(case: Case, test: str, rate: TripRate, guard: bool) -> str:
    """Return one Markdown table row."""
    low, high = rate.interval
    median = "-" if rate.median_treated is None else f"{rate.median_treated:,.0f}"
    return (
        f"| {case.name} | {case.truth} | {test} | {rate.trips}/{rate.runs} | {rate.rate:.1%} | "
        f"{low:.1%} - {high:.1%} | {median} | {verdict(case, rate, guard)} |"
    )


def plot(results: list[tuple[Case, TripRate, TripRate]], path: str) -> None:
    """Draw the share of rollouts tripped by each number of treated users."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (same, worse) = plt.subplots(1, 2, figsize=(11, 4.2))
    for case, guard, naive in results:
        axes = worse if case.regression else same
        colour = "tab:blue" if case.rollout.metric == "error_rate" else "tab:green"
        horizon = case.rollout.users * case.rollout.share
        for rate, style, label in ((guard, "-", "guard"), (naive, ":", "z-test, every call")):
            if case.regression and label != "guard":
                continue
            times = sorted(rate.treated_at_trip)
            xs = [0.0, *times, horizon]
            ys = [0.0, *(i / rate.runs for i in range(1, len(times) + 1)), len(times) / rate.runs]
            axes.step(xs, ys, style, color=colour, where="post", label=f"{case.name}: {label}")
    same.axhline(ALPHA, color="grey", lw=0.8)
    same.set_title(f"No regression: false alarms (alpha = {ALPHA:g})")
    worse.axhline(POWER, color="grey", lw=0.8)
    worse.set_title("A regression: detections")
    for axes in (same, worse):
        axes.set_xlabel("treated users")
        axes.set_ylabel("share of rollouts tripped")
        axes.set_ylim(0, 1)
        axes.legend(loc="upper left" if axes is same else "lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 rollouts per case")
    parser.add_argument("--plot", metavar="PNG", help="write the figure (needs matplotlib)")
    args = parser.parse_args()
    runs = 200 if args.quick else args.runs
    started = time.perf_counter()
    results = []
    for index, case in enumerate(cases(users_errors=60_000, users_latency=20_000)):
        guard, naive = simulate(case.rollout, runs, args.seed + index)
        results.append((case, guard, naive))
    elapsed = time.perf_counter() - started
    print(
        f"# flagkit guard simulation ({time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {runs} rollouts per case, seeds {args.seed}+, "
        f"{elapsed:.0f} s)\n"
    )
    print(
        "Each rollout: 60,000 users (errors) or 20,000 (latency), half of them treated; "
        "the guard's test (alpha 0.05, minimum sample 500 per arm) and a one-sided z-test "
        "at the same alpha, both checked after every call. Errors: effect 0.005. Latency: "
        "log-normal wall times (median 10 ms, sigma 0.5), slow = above the control's p95 "
        "learned from its first 500 calls, effect 0.03.\n"
    )
    print(
        "| case | truth | test | trips | rate | 95% interval (Wilson) "
        "| median treated users at the trip | target |"
    )
    print("|---|---|---|---:|---:|---|---:|---|")
    for case, guard, naive in results:
        print(row(case, "guard (mixture SPRT)", guard, guard=True))
        print(row(case, "naive z-test, every call", naive, guard=False))
    if args.plot:
        plot(results, args.plot)
        print(f"\n(figure written to {args.plot})")


if __name__ == "__main__":
    main()
