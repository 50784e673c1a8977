"""Core benchmark: ns per evaluation through the typed getters, beside the floor.

Run: ``python benchmarks/core.py`` (``--quick`` for a short run; ``--cpu``
times the getters by the thread's CPU time, which a busy shared machine
inflates less than the wall clock; ``--flagd`` adds a column for the same
flags read from a flagd document, interleaved with the others). Prints a
Markdown table. The floor is a hand-written evaluator of the same flags (a
dict lookup, mmh3 and a compare) measured in the same process and rounds;
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

from _workload import Getter, document, flagd_document, floor, users

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
    rounds: int, population: list[dict[str, Any]], loaded: int, *, flagd: bool = False
) -> list[tuple[str, list[float]]]:
    """Return (case, [flagkit ns, floor ns, flagd-file ns]) medians, interleaved every round.

    The flagd column is there only with ``flagd``.
    """
    clients = [flagkit.Client.from_dict(document(loaded))]
    if flagd:
        clients.append(flagkit.Client.from_dict(flagd_document(loaded), format="flagd"))
    floors = floor()
    calls: dict[str, tuple[list[Getter], str, Any]] = {
        name: (
            [getattr(clients[0], method), floors[FLOOR_OF[name]]]
            + [getattr(c, method) for c in clients[1:]],
            key,
            default,
        )
        for name, (method, key, default) in CASES.items()
    }
    theirs = all_four(floors["constant"], floors["rollout"], floors["rule"], floors["split"])
    fours = [all_four(c.get_bool, c.get_bool, c.get_bool, c.get_str) for c in clients]
    calls["all four flags, one user"] = ([fours[0], theirs, *fours[1:]], "", None)
    samples: dict[str, list[list[float]]] = {
        name: [[] for _ in getters] for name, (getters, _, _) in calls.items()
    }
    for _ in range(rounds):
        for name, (getters, key, default) in calls.items():
            for getter, times in zip(getters, samples[name], strict=True):
                times.append(time_pass(getter, key, default, population))
    return [(name, [statistics.median(t) for t in times]) for name, times in samples.items()]


def load_times(sizes: list[int], rounds: int) -> list[tuple[int, float, float, int]]:
    """Return (flags, flagkit load, json.loads, bytes) medians, interleaved per round.

    ``json.loads`` runs with the garbage collector off (the fastest parse of
    the same bytes); flagkit's load runs as it does in an application (the
    collector on: flagkit never pauses it from a load a thread could race).
    """
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"flags-{size}.json"
            path.write_text(json.dumps(document(size)))
            ours, baseline = [], []
            for _ in range(rounds):
                gc.collect()
                gc.disable()
                started = time.perf_counter()
                json.loads(path.read_bytes())
                baseline.append(time.perf_counter() - started)
                gc.enable()
                gc.collect()
                started = time.perf_counter()
                flagkit.Client.from_file(path).get_bool("constant", False)
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
    parser.add_argument("--flagd", action="store_true", help="add the flags read as flagd")
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
    if args.flagd:
        print("| case | flags loaded | flagkit ns | floor ns | ratio | flagd file ns | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
    else:
        print("| case | flags loaded | flagkit ns | floor ns | ratio | target 3x |")
        print("|---|---:|---:|---:|---:|:---:|")
    for loaded in (0, 1_000, 10_000):
        for name, (ours, theirs, *flagd) in per_call(rounds, population, loaded, flagd=args.flagd):
            ratio = ours / theirs
            cells = [f"{ours:.0f}", f"{theirs:.0f}", f"{ratio:.2f}x"]
            if flagd:
                cells += [f"{flagd[0]:.0f}", f"{flagd[0] / theirs:.2f}x"]
            else:
                cells.append("met" if ratio <= 3 else "MISSED")
            print(f"| {name} | {loaded + 4} | {' | '.join(cells)} |")
    if args.no_load:
        return
    print("\n## Load until ready vs json.loads of the same file, GC off (median)\n")
    print("| flags | file size | flagkit load | json.loads | ratio | target 2x |")
    print("|---:|---:|---:|---:|---:|:---:|")
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    for size, ours, baseline, nbytes in load_times(sizes, 3 if args.quick else 7):
        ratio = ours / baseline
        print(
            f"| {size:,} | {nbytes / 1e6:.1f} MB | {ours * 1000:.1f} ms |"
            f" {baseline * 1000:.1f} ms | {ratio:.2f}x | {'met' if ratio <= 2 else 'MISSED'} |"
        )


if __name__ == "__main__":
    main()
