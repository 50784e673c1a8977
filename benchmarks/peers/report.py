"""Render the raw results as Markdown tables."""

from __future__ import annotations

import math
from typing import Any

from .sdks import PEERS
from .workload import CASES

__all__ = ["render", "render_profiles"]


def _ns(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:,.1f} ms"
    if value >= 1e3:
        return f"{value / 1e3:,.1f} µs"
    return f"{value:,.0f} ns"


def _ratio(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.0f}x" if value >= 100 else f"{value:,.1f}x"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def render(results: dict[str, Any]) -> str:
    """Return the whole report: environment, per-call, ratios, load, correctness, network."""
    env = results["environment"]
    first = next(iter(results["calls"].values()), None) or next(iter(results["loads"].values()))
    names = [name for name in first if name != "json.loads"]
    peers = [name for name in names if name in PEERS]
    lines = [
        "# flagkit beside peer SDKs",
        "",
        f"- date: {env['date']}; mode: {results['mode']}",
        f"- machine: {env['cpu']}, {env['cores']} cores, {env['platform']}",
        f"- interpreter: {env['python']}",
        f"- workload: {results['users']:,} distinct users, {results['rounds']} interleaved rounds,"
        " median over rounds; all-four is per user (4 flags)",
        "- versions: "
        + "; ".join(
            f"{name} ({', '.join(f'{dist} {version}' for dist, version in dists.items())})"
            for name, dists in env["versions"].items()
        ),
        "",
    ]
    for name, reason in results["unavailable"].items():
        lines += [f"- not measured: {name} ({reason})"]
    if results["unavailable"]:
        lines.append("")
    targets: list[str] = []
    lines += _per_call(results, names, peers, targets)
    lines += _loads(results, names, peers, targets)
    lines += _correctness(results, names)
    attempts = results["network_attempts"]
    lines += ["## Network", ""]
    if attempts:
        lines += [f"- {a['sdk']}: {a['operation']} {a['target']}" for a in attempts]
    else:
        lines += [
            "No SDK attempted a network connection (socket guard installed in every process)."
        ]
    lines.append("")
    if targets:
        lines += ["## Targets", "", *[f"- {target}" for target in targets], ""]
    return "\n".join(lines)


def _per_call(
    results: dict[str, Any], names: list[str], peers: list[str], targets: list[str]
) -> list[str]:
    lines: list[str] = []
    for size, by_sdk in results["calls"].items():
        lines += [f"## Per-call cost, {int(size):,} flags loaded", ""]
        rows = []
        for case in CASES:
            floor = by_sdk.get("floor", {}).get("median_ns", {}).get(case, math.nan)
            row = [case]
            for name in names:
                value = by_sdk[name]["median_ns"][case]
                row.append(_ns(value) + (f" ({_ratio(value / floor)})" if name != "floor" else ""))
            rows.append(row)
        lines += _table(["case", *names], rows)
        lines += ["Cells: median time per call (per user for all-four), (x the floor).", ""]
        if "flagkit" in by_sdk and peers:
            rows = []
            for case in CASES:
                mine = by_sdk["flagkit"]["median_ns"][case]
                fastest = min(by_sdk[peer]["median_ns"][case] for peer in peers)
                floor = by_sdk.get("floor", {}).get("median_ns", {}).get(case, math.nan)
                rows.append(
                    [case]
                    + [_ratio(by_sdk[peer]["median_ns"][case] / mine) for peer in peers]
                    + [_ratio(fastest / mine)]
                )
                targets.append(
                    f"{int(size):,} flags, {case}: {_ratio(fastest / mine)} faster than the"
                    f" fastest peer ({'met' if fastest / mine >= 10 else 'NOT met'} ≥10x),"
                    f" {_ratio(mine / floor)} the floor"
                    f" ({'met' if mine / floor <= 3 else 'NOT met'} ≤3x)"
                )
            lines += [f"How many times faster flagkit is, {int(size):,} flags:", ""]
            lines += _table(["case", *peers, "fastest peer"], rows)
    return lines


def _loads(
    results: dict[str, Any], names: list[str], peers: list[str], targets: list[str]
) -> list[str]:
    lines: list[str] = []
    loads = results["loads"]
    if not loads:
        return lines
    sizes = list(loads)
    rows_of = [*names, "json.loads"]
    lines += ["## Load until ready, and memory (fresh subprocess per load, median)", ""]
    header = ["sdk", "import"]
    for size in sizes:
        header += [f"{int(size):,} flags: load", "again", "RSS added", "peak added"]
    rows = []
    for name in rows_of:
        if not any(name in loads[size] for size in sizes):
            continue
        first = next(loads[size][name] for size in sizes if name in loads[size])
        row = [name, f"{first['import_seconds'] * 1e3:,.0f} ms"]
        for size in sizes:
            entry = loads[size].get(name)
            if entry is None:
                row += ["-", "-", "-", "-"]
                continue
            row += [
                f"{entry['load_seconds'] * 1e3:,.1f} ms",
                f"{entry.get('warm_load_seconds', 0.0) * 1e3:,.1f} ms",
                f"{entry['rss_added_bytes'] / 2**20:,.1f} MiB",
                f"{entry.get('peak_added_bytes', 0) / 2**20:,.1f} MiB",
            ]
        rows.append(row)
    lines += _table(header, rows)
    lines += [
        "json.loads: flagkit's native file parsed with the garbage collector off, the"
        " baseline; import: importing the SDK, excluded from the load; load: from the file"
        " to a ready client that answered one evaluation, in a fresh process (a first"
        " load also pays for modules an SDK imports only then); again: a second load in"
        " the same process, as every reload; RSS added: resident size after the load"
        " minus before, both after gc.collect(); peak added: the highest resident size"
        " during the load minus before.",
        "",
    ]
    for size in sizes:
        by_sdk = loads[size]
        mine, base = by_sdk.get("flagkit"), by_sdk.get("json.loads")
        if mine is None:
            continue
        flags = f"{int(size):,} flags"
        if base is not None:
            ratio = mine["load_seconds"] / base["load_seconds"]
            warm = mine.get("warm_load_seconds", 0.0) / base["load_seconds"]
            targets.append(
                f"load {flags}: flagkit {ratio:.2f}x json.loads, {warm:.2f}x again"
                f" ({'met' if ratio <= 2 else 'NOT met'} ≤2x)"
            )
        if "growthbook" in by_sdk:
            theirs = by_sdk["growthbook"]["load_seconds"]
            verdict = "met" if mine["load_seconds"] <= theirs else "NOT met"
            again = mine.get("warm_load_seconds", 0.0) * 1e3
            theirs_again = by_sdk["growthbook"].get("warm_load_seconds", 0.0) * 1e3
            targets.append(
                f"load {flags}: flagkit {mine['load_seconds'] * 1e3:,.1f} ms vs GrowthBook"
                f" {theirs * 1e3:,.1f} ms ({verdict}); again {again:,.1f} vs {theirs_again:,.1f} ms"
            )
        peak = mine.get("peak_added_bytes", 0) / 2**20
        if int(size) == 10_000:
            targets.append(
                f"peak RSS added, {flags}: flagkit {peak:,.1f} MiB"
                f" ({'met' if peak <= 25 else 'NOT met'} ≤25 MB)"
            )
        ours, provider = by_sdk.get("flagkit-flagd"), by_sdk.get("openfeature-flagd")
        if ours is not None and provider is not None:
            faster = "met" if ours["load_seconds"] <= provider["load_seconds"] else "NOT met"
            smaller = (
                "met" if ours["peak_added_bytes"] <= provider["peak_added_bytes"] else "NOT met"
            )
            targets.append(
                f"flagd load {flags}: flagkit {ours['load_seconds'] * 1e3:,.1f} ms vs the"
                f" provider {provider['load_seconds'] * 1e3:,.1f} ms ({faster}); peak"
                f" {ours['peak_added_bytes'] / 2**20:,.1f} vs"
                f" {provider['peak_added_bytes'] / 2**20:,.1f} MiB ({smaller})"
            )
    return lines


def _correctness(results: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["## Correctness, checked on the timed calls", ""]
    rows = []
    for size, by_sdk in results["calls"].items():
        for name in names:
            check = by_sdk[name]["correctness"]
            shares = check["split_shares"]
            rows.append(
                [
                    f"{int(size):,}",
                    name,
                    f"{check['users']['rule']:,}",
                    f"{check['rollout_share']:.1%}",
                    " / ".join(f"{share:.1%}" for share in shares.values()),
                    str(check["rule_mismatches"]),
                    "ok" if check["ok"] else "WRONG: " + "; ".join(check["problems"]),
                ]
            )
    lines += _table(
        ["flags", "sdk", "users", "rollout (10%)", "split (34/33/33)", "rule errors", "verdict"],
        rows,
    )
    return lines


def render_profiles(profiles: dict[str, Any]) -> str:
    """Return the top functions of each profile as plain text."""
    lines = []
    for name, profile in profiles.items():
        lines.append(
            f"== {name}: {profile['total_us_per_user']:,.1f} µs per user (all-four, profiled)"
        )
        lines.append(f"{'tottime µs/user':>16} {'calls/user':>10}  function")
        for row in profile["top"]:
            tottime, calls = row["tottime_us_per_user"], row["calls_per_user"]
            lines.append(f"{tottime:>16.2f} {calls:>10.1f}  {row['function']}")
        lines.append("")
    return "\n".join(lines)
