"""``flagkit guard simulate``: size a guard before shipping it.

Reads a flag's guard from a flag file and simulates guarded rollouts of
its error-rate test (``_client.simulation``): without a regression, the
share that trips (the false-alarm rate, at most the guard's alpha); with
the given regression, the share that trips within ``--users`` and how many
treated users it takes.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flagkit._cli.common import EXIT_OK, compile_at, usage_error
from flagkit._cli.output import colour_enabled, percent, print_json, render_table
from flagkit._client.simulation import Rollout, TripRate, error_outcome, simulate
from flagkit._core.plan import Guard, Plan, Ramp, Split

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the guard command and its simulate sub-command."""
    parser = commands.add_parser("guard", help="work with guarded rollouts")
    actions = parser.add_subparsers(
        dest="action",
        required=True,
        parser_class=type(parser),
        metavar="ACTION",
        help="simulate: expected time to detection and false-alarm rate of a guard",
    )
    simulate_parser = actions.add_parser(
        "simulate", help="expected time to detection and false-alarm rate of a guard"
    )
    simulate_parser.add_argument("file", metavar="FILE", help="the flag file")
    simulate_parser.add_argument("flag", metavar="FLAG", help="the guarded flag to size")
    simulate_parser.add_argument(
        "--baseline-error", type=_share, required=True, help="the control's error rate, e.g. 0.01"
    )
    simulate_parser.add_argument(
        "--effect", type=float, required=True, help="the regression to simulate, e.g. 0.005"
    )
    simulate_parser.add_argument(
        "--users", type=_positive, default=100_000, help="users per simulated rollout"
    )
    simulate_parser.add_argument("--runs", type=_positive, default=200, help="rollouts per case")
    simulate_parser.add_argument(
        "--share", type=_share, help="treated share (default: the rollout's weights now)"
    )
    simulate_parser.add_argument("--at", metavar="TIME", help="read a ramp's weights at TIME")
    simulate_parser.add_argument("--rate", type=float, help="users per second, to give a time")
    simulate_parser.add_argument("--seed", type=int, default=1)
    simulate_parser.add_argument("--json", action="store_true", help="print JSON")
    simulate_parser.set_defaults(handler=_simulate)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _weights_at(plan: Plan, guard: Guard, now: float) -> dict[str | None, float]:
    """Return the guarded rollout's shares (variant -> share of its users) at ``now``."""
    serve = plan.default if guard.rule is None else plan.rules[guard.rule].serve
    if isinstance(serve, Ramp):
        serve = serve.steps[serve.step_at(now)]
    assert isinstance(serve, Split)
    return serve.shares()


def _simulate(args: argparse.Namespace) -> int:
    snapshot, now = compile_at(args.file, args.flag, args.at)
    plan = snapshot.flags[args.flag].plan
    guard = plan.guard
    if guard is None:
        raise usage_error(f"flag {args.flag!r} has no guarded rollout")
    metric = next((m for m in guard.metrics if m.kind == "error_rate"), None)
    if metric is None:
        raise usage_error(f"the guard of {args.flag!r} watches no error_rate")
    treated = guard.treatments[0]
    shares = _weights_at(plan, guard, now)
    share = args.share if args.share is not None else shares.get(treated, 0.0)
    control_share = shares.get(guard.control, 0.0) if args.share is None else 1 - share
    if share <= 0 or control_share <= 0:
        raise usage_error(
            f"{treated!r} or {guard.control!r} gets no users at that time: give --share or --at"
        )
    worse = args.baseline_error + args.effect
    if not 0 <= worse <= 1:
        raise usage_error("--baseline-error plus --effect must be a rate between 0 and 1")
    alpha = guard.alpha / (len(guard.metrics) * len(guard.treatments))
    common: dict[str, Any] = {
        "effect": metric.effect,
        "alpha": alpha,
        "min_sample": guard.min_sample,
        "share": share,
        "control_share": control_share,
        "users": args.users,
        "naive": False,
    }
    baseline = args.baseline_error
    same, _ = simulate(Rollout(error_outcome(baseline, baseline), **common), args.runs, args.seed)
    worse_rate, _ = simulate(
        Rollout(error_outcome(baseline, worse), **common), args.runs, args.seed + 1
    )
    report = _report(args, guard, metric.effect, alpha, share, same, worse_rate, worse)
    if args.json:
        print_json(report, sys.stdout)
        return EXIT_OK
    sys.stdout.write(_render(report, colour_enabled(sys.stdout)))
    return EXIT_OK


def _case(label: str, rate: TripRate, per_second: float | None) -> dict[str, Any]:
    low, high = rate.interval
    users = rate.median_users
    return {
        "case": label,
        "trips": rate.trips,
        "runs": rate.runs,
        "rate": rate.rate,
        "interval": [low, high],
        "median_treated_users": rate.median_treated,
        "median_users": users,
        "median_seconds": None if per_second is None or users is None else users / per_second,
    }


def _report(  # noqa: PLR0917 - the report's parts, named at the one call
    args: argparse.Namespace,
    guard: Guard,
    tau: float,
    alpha: float,
    share: float,
    same: TripRate,
    worse: TripRate,
    worse_rate: float,
) -> dict[str, Any]:
    baseline = args.baseline_error
    return {
        "flag": args.flag,
        "file": args.file,
        "control": guard.control,
        "treatment": guard.treatments[0],
        "effect": tau,
        "alpha": alpha,
        "min_sample": guard.min_sample,
        "share": share,
        "users": args.users,
        "runs": args.runs,
        "seed": args.seed,
        "cases": [
            _case(f"no regression ({baseline:g} both)", same, args.rate),
            _case(f"regression {baseline:g} -> {worse_rate:g}", worse, args.rate),
        ],
    }


def _render(report: dict[str, Any], colour: bool) -> str:
    out = [
        f"{report['flag']}: guard on error_rate (effect {report['effect']:g}, alpha "
        f"{report['alpha']:g} per comparison, min sample {report['min_sample']})\n",
        f"{report['runs']} simulated rollouts of {report['users']} users each, "
        f"{report['treatment']!r} {percent(report['share'])} of them, seed {report['seed']}\n\n",
    ]
    rows = []
    for case in report["cases"]:
        low, high = case["interval"]
        seconds = case["median_seconds"]
        rows.append(
            [
                case["case"],
                f"{case['trips']}/{case['runs']}",
                percent(case["rate"]),
                f"{percent(low)} - {percent(high)}",
                "-"
                if case["median_treated_users"] is None
                else f"{case['median_treated_users']:,.0f}",
                "-" if case["median_users"] is None else f"{case['median_users']:,.0f}",
                "-" if seconds is None else _duration(seconds),
            ]
        )
    out.append(
        render_table(
            ["case", "trips", "rate", "95% interval", "median treated", "median users", "time"],
            rows,
            colour=colour,
        )
    )
    same, worse = report["cases"]
    out.append(
        f"\nfalse-alarm rate {percent(same['rate'])} (alpha {report['alpha']:g}); "
        f"detected in {percent(worse['rate'])} of rollouts"
    )
    if worse["median_treated_users"] is not None:
        out.append(f", after a median of {worse['median_treated_users']:,.0f} treated users")
    out.append("\n")
    return "".join(out)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
