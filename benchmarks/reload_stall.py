"""How long another thread's evaluations stall while a 10,000-flag document reloads.

Run: ``python benchmarks/reload_stall.py`` (``--quick`` for a short run).

One thread evaluates a rollout flag in a tight loop (the worst case: it
always wants the interpreter) and records every call's wall time into a
preallocated list; the main thread reloads the document (parse, validate,
build the snapshot, publish), as a file or HTTP source's thread does.
Rounds at rest and during reloads alternate, so both see the same machine.
The table gives the distribution of per-call latency and how often a call
took over 1 ms and over 5 ms; on a shared machine the at-rest rows show
the noise floor (the operating system preempting the thread).
"""

from __future__ import annotations

import argparse
import array
import gc
import json
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import document, users

import flagkit
from flagkit._sources.pipeline import snapshot_from_bytes

#: Calls one round can record, preallocated in an array: growing a list would
#: itself stall, and a list of millions of ints makes every full garbage
#: collection walk them (an array is one untracked object).
CAPACITY = 8_000_000


def documents(flags: int) -> list[bytes]:
    """Return two versions of one document, so every reload changes something."""
    first = document(flags)
    second = document(flags)
    second["flags"]["constant"]["default"] = "off"
    return [json.dumps(first).encode(), json.dumps(second).encode()]


def evaluate(client: flagkit.Client, stop: threading.Event, out: array.array[int]) -> None:
    """Evaluate in a loop until ``stop``, storing each call's ns; out[-1] gets the count."""
    people = users(1000)
    clock = time.perf_counter_ns
    get_bool = client.get_bool
    i = 0
    limit = len(out) - 1
    while i < limit and not stop.is_set():
        user = people[i % 1000]
        start = clock()
        get_bool("rollout", False, user)
        out[i] = clock() - start
        i += 1
    out[-1] = i


def one_round(client: flagkit.Client, texts: list[bytes], reloads: int, rest: float) -> dict:
    """Run one round (reloads, or ``rest`` seconds idle); return latencies and reload times."""
    samples = array.array("q", bytes(8 * CAPACITY))
    stop = threading.Event()
    worker = threading.Thread(target=evaluate, args=(client, stop, samples))
    worker.start()
    time.sleep(0.05)  # the evaluator is running
    first = samples[-1]
    started = time.perf_counter()
    durations = []
    if reloads:
        for k in range(reloads):
            start = time.perf_counter()
            client.publish(snapshot_from_bytes(texts[k % 2], "json", origin="reload"))
            durations.append(time.perf_counter() - start)
    else:
        time.sleep(rest)
    elapsed = time.perf_counter() - started
    stop.set()
    worker.join()
    latencies = samples[first : samples[-1]].tolist()
    return {"latencies": latencies, "seconds": elapsed, "reloads": durations}


def reload_alone(texts: list[bytes], repeat: int) -> float:
    """Return the median seconds of one reload with no other thread running."""
    client = flagkit.Client(snapshot_from_bytes(texts[0], "json"))
    times = []
    for k in range(repeat):
        start = time.perf_counter()
        client.publish(snapshot_from_bytes(texts[k % 2], "json"))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(label: str, rounds: list[dict]) -> str:
    """Return one table row: the latency distribution over all rounds of one kind."""
    latencies = sorted(ns for r in rounds for ns in r["latencies"])
    seconds = sum(r["seconds"] for r in rounds)

    def at(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] / 1e3

    over1 = sum(ns > 1_000_000 for ns in latencies)
    over5 = sum(ns > 5_000_000 for ns in latencies)
    return (
        f"| {label} | {len(latencies):,} | {at(0.5):.2f} µs | {at(0.99):.2f} µs | "
        f"{at(0.999):.1f} µs | {at(0.9999) / 1e3:.2f} ms | {latencies[-1] / 1e6:.2f} ms | "
        f"{over1 / seconds:.1f} | {over5 / seconds:.2f} | {over5} |"
    )


def main() -> None:
    """Print the latency table, at rest and during reloads, and the reload times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and reloads")
    parser.add_argument("--flags", type=int, default=10_000, help="flags in the document")
    args = parser.parse_args()
    rounds, reloads = (2, 3) if args.quick else (5, 6)
    texts = documents(args.flags)
    client = flagkit.Client(snapshot_from_bytes(texts[0], "json"))
    gc.collect()
    rest, busy = [], []
    for _ in range(rounds):
        busy.append(one_round(client, texts, reloads, 0))
        rest.append(one_round(client, texts, 0, busy[-1]["seconds"]))
    alone = reload_alone(texts, 5)
    contended = statistics.median(t for r in busy for t in r["reloads"])
    print(
        f"# Evaluation latency during {args.flags:,}-flag reloads "
        f"({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
        f"flagkit {flagkit.__version__}, gc {'on' if gc.isenabled() else 'off'})\n"
    )
    print(
        "| another thread's calls | calls | p50 | p99 | p99.9 | p99.99 | max "
        "| > 1 ms per s | > 5 ms per s | > 5 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(row("at rest", rest))
    print(row(f"during reloads ({reloads * rounds})", busy))
    print(
        f"\nOne reload: {alone * 1e3:.1f} ms alone; {contended * 1e3:.1f} ms (median) while the"
        " other thread evaluates non-stop (the reload yields the interpreter about every"
        " millisecond, so a busy thread slows it down instead of waiting for it)."
    )


if __name__ == "__main__":
    main()
