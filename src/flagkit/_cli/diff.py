"""``flagkit diff``: what changes between two flag files, and for how many users."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flagkit._cli.common import (
    EXIT_IMPACT,
    EXIT_OK,
    add_format_option,
    clock_at,
    load_document,
    load_snapshot,
    usage_error,
)
from flagkit._cli.output import colour_enabled, percent, print_json, render_table
from flagkit._cli.population import add_population_options, bucketing_attributes, population
from flagkit._cli.simulate import variant_label
from flagkit._core.compile import compile_document
from flagkit._core.snapshot import CompiledFlag
from flagkit._definitions.model import Document, Flag

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the diff sub-command."""
    parser = commands.add_parser(
        "diff", help="flags added, removed and modified, with the share of users each change moves"
    )
    parser.add_argument("old", metavar="OLD", help="the flag file as it is (e.g. in production)")
    parser.add_argument("new", metavar="NEW", help="the flag file as it would be after the change")
    add_population_options(parser)
    add_format_option(parser, syntax=False)
    parser.add_argument("--at", metavar="TIME", help="evaluate at this ISO 8601 time")
    parser.add_argument(
        "--fail-above",
        type=float,
        metavar="PCT",
        help=f"exit {EXIT_IMPACT} when a flag changes for more than PCT%% of users",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_diff)


@dataclass(slots=True)
class FlagChange:
    """A flag whose definition, segments or prerequisites changed, and its measured impact."""

    flag: str
    fields: list[str]
    via: list[str]
    changed: int = 0
    onto: Counter[str] = field(default_factory=Counter)
    off: Counter[str] = field(default_factory=Counter)


def changed_fields(old: Flag, new: Flag) -> list[str]:
    """Return the names of the fields that differ between two definitions of a flag."""
    return [name for name in type(old).model_fields if getattr(old, name) != getattr(new, name)]


def _segments_used(flag: Flag) -> set[str]:
    return {
        str(name)
        for rule in flag.rules
        for condition in rule.when
        if condition.op == "in_segment"
        for name in condition.operands()
    }


def find_changes(old: Document, new: Document) -> dict[str, FlagChange]:
    """Return the flags in both documents whose evaluation may differ.

    A flag may change because its own definition did, because a segment it
    uses did, or because one of its prerequisites may (followed transitively).
    """
    segments = {
        name
        for name in old.segments.keys() | new.segments.keys()
        if old.segments.get(name) != new.segments.get(name)
    }
    changes: dict[str, FlagChange] = {}
    for key in old.flags.keys() & new.flags.keys():
        fields = changed_fields(old.flags[key], new.flags[key])
        via = sorted(
            f"segment {name}"
            for name in segments & (_segments_used(old.flags[key]) | _segments_used(new.flags[key]))
        )
        if fields or via:
            changes[key] = FlagChange(key, fields, via)
    grew = True
    while grew:  # follow prerequisites until nothing more is affected
        grew = False
        for key in sorted(old.flags.keys() & new.flags.keys()):
            prerequisites = {p.flag for p in new.flags[key].prerequisites}
            prerequisites |= {p.flag for p in old.flags[key].prerequisites}
            for name in sorted(prerequisites & changes.keys()):
                change = changes.setdefault(key, FlagChange(key, [], []))
                if f"prerequisite {name}" not in change.via:
                    change.via.append(f"prerequisite {name}")
                    grew = True
    return dict(sorted(changes.items()))


def find_plan_changes(
    old: Mapping[str, CompiledFlag], new: Mapping[str, CompiledFlag]
) -> dict[str, FlagChange]:
    """Return the flags in both flag sets whose compiled definitions differ (foreign formats).

    A flag's fingerprint digests its definition and everything it depends on
    (segments, prerequisites), so a changed fingerprint is a change.
    """
    return {
        key: FlagChange(key, ["definition"], [])
        for key in sorted(old.keys() & new.keys())
        if old[key].fingerprint != new[key].fingerprint
    }


def measure(
    before: Mapping[str, CompiledFlag],
    after: Mapping[str, CompiledFlag],
    changes: Mapping[str, FlagChange],
    args: argparse.Namespace,
) -> int:
    """Evaluate every changed flag both ways over the population; return its size."""
    pairs = [(changes[key], before[key].evaluate, after[key].evaluate) for key in changes]
    unique = bucketing_attributes(f.plan for f in [*before.values(), *after.values()])
    users = 0
    for context in population(args, unique=unique):
        users += 1
        for change, evaluate_old, evaluate_new in pairs:
            was, now_is = evaluate_old(context)[0], evaluate_new(context)[0]
            if (was.variant, was.has_value, was.value) == (
                now_is.variant,
                now_is.has_value,
                now_is.value,
            ):
                continue
            change.changed += 1
            if was.variant != now_is.variant:
                change.off[variant_label(was)] += 1
                change.onto[variant_label(now_is)] += 1
    return users


def _diff(args: argparse.Namespace) -> int:
    clock = clock_at(args.at)
    now = clock() if clock is not None else time.time()
    if args.fail_above is not None and not 0 <= args.fail_above <= 100:
        raise usage_error(f"--fail-above expects a percentage 0-100, got {args.fail_above}")
    before: Mapping[str, CompiledFlag]
    after: Mapping[str, CompiledFlag]
    if args.format == "native":
        old, new = load_document(args.old), load_document(args.new)
        changes = find_changes(old, new)
        before = compile_document(old, clock=lambda: now).flags
        after = compile_document(new, clock=lambda: now).flags
    else:  # foreign formats: compare compiled plans and their fingerprints
        before = load_snapshot(args.old, args.format, clock=lambda: now).flags
        after = load_snapshot(args.new, args.format, clock=lambda: now).flags
        changes = find_plan_changes(before, after)
    users = measure(before, after, changes, args) if changes else 0
    report = _report(args, before, after, changes, users)
    if args.json:
        print_json(report, sys.stdout)
    else:
        sys.stdout.write(_render(report, colour=colour_enabled(sys.stdout)))
    return EXIT_IMPACT if report["exceeded"] else EXIT_OK


def _report(
    args: argparse.Namespace,
    old: Mapping[str, CompiledFlag],
    new: Mapping[str, CompiledFlag],
    changes: Mapping[str, FlagChange],
    users: int,
) -> dict[str, Any]:
    def share(count: int) -> float:
        return count / users if users else 0.0

    modified: list[dict[str, Any]] = []
    for change in changes.values():
        declared = [*new[change.flag].variants, *old[change.flag].variants]
        moved = change.off.keys() | change.onto.keys()
        variants = [name for name in dict.fromkeys(declared) if name in moved]
        variants += sorted(moved - set(variants))
        modified.append(
            {
                "flag": change.flag,
                "fields": change.fields,
                "via": change.via,
                "changed": change.changed,
                "impact": share(change.changed),
                "moves": [
                    {
                        "variant": name,
                        "onto": share(change.onto[name]),
                        "off": share(change.off[name]),
                    }
                    for name in variants
                ],
            }
        )
    threshold = args.fail_above
    return {
        "old": args.old,
        "new": args.new,
        "source": args.contexts or "synthetic",
        "users": users,
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "modified": modified,
        "fail_above": threshold,
        "exceeded": [
            m["flag"] for m in modified if threshold is not None and m["impact"] * 100 > threshold
        ],
    }


def _render(report: Mapping[str, Any], *, colour: bool) -> str:
    out = [f"{report['old']} -> {report['new']}\n"]
    out.append(f"added:    {', '.join(report['added']) or '-'}\n")
    out.append(f"removed:  {', '.join(report['removed']) or '-'}\n")
    if not report["modified"]:
        out.append("modified: -\n")
        return "".join(out)
    source = "synthetic users" if report["source"] == "synthetic" else "contexts"
    out.append(f"modified: {len(report['modified'])} (impact over {report['users']} {source})\n\n")
    rows = [
        [m["flag"], m["changed"], percent(m["impact"]), ", ".join(m["fields"] + m["via"])]
        for m in report["modified"]
    ]
    table = render_table(["flag", "users", "impact", "what changed"], rows, colour=colour)
    out.append(table)
    for m in report["modified"]:
        if m["moves"]:
            out.append(f"\n{m['flag']}:\n")
        for move in m["moves"]:
            out.append(
                f"  moves {percent(move['onto'])} of users onto `{move['variant']}`, "
                f"{percent(move['off'])} off it\n"
            )
    if report["fail_above"] is not None:
        exceeded = ", ".join(report["exceeded"]) or "none"
        out.append(f"\nflags above {report['fail_above']:g}% impact: {exceeded}\n")
    return "".join(out)
