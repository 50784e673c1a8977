"""``flagkit simulate``: the distribution of a flag's variants over many users."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from flagkit._cli.common import EXIT_OK, add_format_option, compile_at
from flagkit._cli.output import colour_enabled, percent, print_json, render_table
from flagkit._cli.population import add_population_options, bucketing_attributes, population
from flagkit._core.details import Reason
from flagkit._core.snapshot import Resolution
from flagkit._core.timeutil import iso_instant

__all__ = ["DEFAULT_LABEL", "decided_by", "register", "variant_label"]


def register(commands: Any) -> None:
    """Add the simulate sub-command."""
    parser = commands.add_parser("simulate", help="variant shares of a flag over many users")
    parser.add_argument("file", metavar="FILE", help="the flag file")
    parser.add_argument("flag", metavar="FLAG", help="the key of the flag to simulate")
    add_population_options(parser)
    add_format_option(parser, syntax=False)
    parser.add_argument("--at", metavar="TIME", help="evaluate at this ISO 8601 time")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_simulate)


#: The label of evaluations that served the caller's default (no variant).
DEFAULT_LABEL = "(default)"


def variant_label(resolution: Resolution) -> str:
    """Return the variant served, or ``(default)`` when the caller's default is."""
    return resolution.variant if resolution.variant is not None else DEFAULT_LABEL


def decided_by(resolution: Resolution) -> str:
    """Return which rule, or which other step, decided a resolution."""
    if resolution.rule is not None:
        return f"rule {resolution.rule}"
    if resolution.reason is Reason.ERROR:
        return f"error {resolution.error_code}"
    if resolution.reason is Reason.DISABLED:
        return "disabled"
    if resolution.reason is Reason.PREREQUISITE_FAILED:
        return "prerequisite failed"
    return "default"


def _simulate(args: argparse.Namespace) -> int:
    snapshot, now = compile_at(args.file, args.flag, args.at, args.format)
    compiled = snapshot.flags[args.flag]
    evaluate = compiled.evaluate
    variants: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    unique = bucketing_attributes(f.plan for f in snapshot.flags.values())
    for context in population(args, unique=unique):
        resolution = evaluate(context)[0]
        variants[variant_label(resolution)] += 1
        rules[decided_by(resolution)] += 1
    total = sum(variants.values())
    shares = compiled.plan.shares_at(now)
    expected = (
        None
        if shares is None
        else {DEFAULT_LABEL if name is None else name: share for name, share in shares.items()}
    )
    names = list(compiled.variants)
    names += sorted(set(variants) - set(names))
    report = {
        "flag": args.flag,
        "file": args.file,
        "source": args.contexts or "synthetic",
        "at": iso_instant(now),
        "users": total,
        "variants": [
            {
                "variant": name,
                "expected": None if expected is None else expected.get(name, 0.0),
                "observed": variants[name] / total if total else 0.0,
                "count": variants[name],
            }
            for name in names
        ],
        "decided_by": [
            {"step": step, "count": count, "share": count / total}
            for step, count in rules.most_common()
        ],
    }
    if args.json:
        print_json(report, sys.stdout)
        return EXIT_OK
    colour = colour_enabled(sys.stdout)
    source = "synthetic users" if args.contexts is None else f"contexts from {args.contexts}"
    out = [f"{args.flag}: {total} {source} at {report['at']}\n\n"]
    out.append(
        render_table(
            ["variant", "expected", "observed", "users"],
            [
                [row["variant"], percent(row["expected"]), percent(row["observed"]), row["count"]]
                for row in report["variants"]
            ],
            colour=colour,
        )
    )
    if expected is None:
        out.append("(no expected shares: targeting rules or prerequisites decide some users)\n")
    out.append("\n")
    out.append(
        render_table(
            ["decided by", "users", "share"],
            [[row["step"], row["count"], percent(row["share"])] for row in report["decided_by"]],
            colour=colour,
        )
    )
    sys.stdout.write("".join(out))
    return EXIT_OK
