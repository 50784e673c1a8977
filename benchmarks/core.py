"""Core benchmark: ns per evaluation through the typed getters, beside the floor.

Run: ``python benchmarks/core.py`` (``--quick`` for a short run; ``--cpu``
times the getters by the thread's CPU time, which a busy shared machine
inflates less than the wall clock). Prints a Markdown table. The floor is a
hand-written evaluator of the same flags (a dict lookup, mmh3 and a
compare) measured in the same process and rounds;
ratios to it are the numbers to read, since this machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import Getter, document, floor, users

import flagkit

CASES = {
    "constant": ("get_bool", "constant", False),
    "rollout 10%": ("get_bool", "rollout", False),
    "rule (in + equals)": ("get_bool", "rule", False),
    "3-way split": ("get_str", "split", "?"),
    "missing flag": ("get_bool", "missing", False),
}
FLOOR_OF = {
    "constant": "constant",
    "rollout 10%": "rollout",
    "rule (in + equals)": "rule",
    "3-way split": "split",
    "missing flag": "missing",
}


CLOCK = time.perf_counter_ns


def time_pass(call: Getter, key: str, default: Any, population: list[dict[str, Any]]) -> float:
    """Return ns per call of ``call(key, default, user)`` over one pass of the population."""
    started = CLOCK()
    for user in population:
        call(key, default, user)
    return (CLOCK() - started) / len(population)


def all_four(constant: Getter, rollout: Getter, rule: Getter, split: Getter) -> Getter:
    """Return a getter-shaped call that reads the four flags for one user."""

    def read_all(_key: str, _default: Any, user: dict[str, Any]) -> Any:
        return (
            constant("constant", False, user),
            rollout("rollout", False, user),
            rule("rule", False, user),
            split("split", "?", user),
        )

    return read_all


def per_call(
    rounds: int, population: list[dict[str, Any]], loaded: int
) -> list[tuple[str, float, float]]:
    """Return (case, flagkit ns, floor ns) medians, the two interleaved in every round."""
    client = flagkit.Client.from_dict(document(loaded))
    floors = floor()
    calls: dict[str, tuple[Getter, Getter, str, Any]] = {
        name: (getattr(client, method), floors[FLOOR_OF[name]], key, default)
        for name, (method, key, default) in CASES.items()
    }
    get_bool, get_str = client.get_bool, client.get_str
    ours = all_four(get_bool, get_bool, get_bool, get_str)
    theirs = all_four(floors["constant"], floors["rollout"], floors["rule"], floors["split"])
    calls["all four flags, one user"] = (ours, theirs, "", None)
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in calls}
    for _ in range(rounds):
        for name, (ours, theirs, key, default) in calls.items():
            samples[name][0].append(time_pass(ours, key, default, population))
            samples[name][1].append(time_pass(theirs, key, default, population))
    return [(name, statistics.median(a), statistics.median(b)) for name, (a, b) in samples.items()]


def load_times(sizes: list[int], rounds: int) -> list[tuple[int, float, float, int]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"flags-{size}.json"
            path.write_text(json.dumps(document(size)))
            ours, baseline = [], []
            for _ in range(rounds):
                gc.collect()
                started = time.perf_counter()
                json.loads(path.read_bytes())
                baseline.append(time.perf_counter() - started)
                gc.collect()
                started = time.perf_counter()
                flagkit.Client.from_file(path)
                ours.append(time.perf_counter() - started)
            rows.append(
                (size, statistics.median(ours), statistics.median(baseline), path.stat().st_size)
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and users")
    parser.add_argument("--cpu", action="store_true", help="time getters by thread CPU time")
    parser.add_argument("--no-load", action="store_true", help="skip the load-time table")
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.thread_time_ns
    rounds = 5 if args.quick else 15
    population = users(2_000 if args.quick else 10_000)

    python = platform.python_version()
    print(
        f"# flagkit core benchmark ({time.strftime('%Y-%m-%d')}, Python {python}, "
        f"{platform.machine()}, flagkit {flagkit.__version__}, "
        f"{'thread CPU time' if args.cpu else 'wall clock'})\n"
    )
    print("## Typed getter vs the hand-written floor (median ns per call)\n")
    print("| case | flags loaded | flagkit ns | floor ns | ratio | target 3x |")
    print("|---|---:|---:|---:|---:|:---:|")
    for loaded in (0, 1_000, 10_000):
        for name, ours, theirs in per_call(rounds, population, loaded):
            ratio = ours / theirs
            print(
                f"| {name} | {loaded + 4} | {ours:.0f} | {theirs:.0f} | {ratio:.2f}x | "
                f"{'met' if ratio <= 3 else 'MISSED'} |"
            )
    if args.no_load:
        return
    print("\n## Load and compile vs json.loads of the same file (median seconds)\n")
    print("| flags | file size | flagkit load+compile | json.loads | ratio | target 4x |")
    print("|---:|---:|---:|---:|---:|:---:|")
    for size, ours, baseline, nbytes in load_times([1_000, 10_000], 3 if args.quick else 7):
        ratio = ours / baseline
        print(
            f"| {size} | {nbytes / 1e6:.1f} MB | {ours * 1000:.1f} ms | {baseline * 1000:.1f} ms | "
            f"{ratio:.1f}x | {'met' if ratio <= 4 else 'MISSED'} |"
        )


if __name__ == "__main__":
    main()
