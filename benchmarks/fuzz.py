"""Fuzz benchmark: millions of hostile calls through every public evaluation entry point.

Run: ``python benchmarks/fuzz.py`` (ten million calls; ``--calls`` and
``--workers`` to change that, ``--quick`` for 200,000). Prints a Markdown
table: calls made, calls that raised, answers of the wrong kind, processes
that crashed (killed by a signal: a segmentation fault), processes that hung
(a call past ``--time-limit`` seconds), the slowest call, and the rate.

The calls are made in worker processes (this script, run with ``--worker``),
each over a chunk of calls with its own seed: a crash or a hang ends one
worker and is counted, and the others carry on. Every worker evaluates the
three fixed documents of ``tests/hostile.py`` (every operator on every
attribute: native, flagd with a flag key holding a lone surrogate, and
Unleash with every strategy and stickiness) and a few
random valid documents from ``flagkit.testing.strategies``, each on the
fast path and three observed ones (hooks, exposures and outcomes; a client
context, hashing flagd's ``fractional`` with v3; active overrides). The
hostile keys, contexts and defaults, and the checks of every answer, are
``tests/hostile.py``'s, shared with the test suite. The machine is shared:
read the rate as an indication, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flagkit  # noqa: E402 - after the path that makes tests.hostile importable

#: Random documents each worker adds to the two fixed ones.
RANDOM_DOCUMENTS = 3


def generated_documents(count: int, seed: int) -> list[dict[str, Any]]:
    """Return ``count`` random valid native documents (Hypothesis, seeded)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    from flagkit.testing import strategies

    found: list[dict[str, Any]] = []

    @with_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategies.documents(max_flags=8))
    def collect(document: dict[str, Any]) -> None:
        found.append(document)

    collect()
    return found[:count]


def worker(seed: int, calls: int, time_limit: float) -> None:
    """Fuzz ``calls`` calls and print the tally as JSON (the parent reads it)."""
    from tests.hostile import clients_for, flagd_document, fuzz, native_document, unleash_document

    clients = clients_for(native_document()) + clients_for(flagd_document(), "flagd")
    clients += clients_for(unleash_document(), "unleash")
    for document in generated_documents(RANDOM_DOCUMENTS, seed):
        clients += clients_for(document)
    tally = fuzz(clients, random.Random(seed), calls, time_limit=time_limit)
    print(json.dumps(tally))


def run_chunk(seed: int, calls: int, time_limit: float) -> tuple[int, dict[str, int], str]:
    """Run one worker; return its exit status, its tally (if any) and its stderr."""
    command = [
        sys.executable,
        "-X",
        "faulthandler",
        __file__,
        "--worker",
        f"--seed={seed}",
        f"--calls={calls}",
        f"--time-limit={time_limit}",
    ]
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=time_limit + calls * 0.01 + 120,  # only a backstop: the watchdog is first
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        return -999, {}, str(expired.stderr or "")
    tally = json.loads(done.stdout) if done.returncode == 0 and done.stdout else {}
    return done.returncode, tally, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000_000, help="calls in all")
    parser.add_argument("--quick", action="store_true", help="200,000 calls")
    parser.add_argument("--workers", type=int, default=2, help="worker processes at a time")
    parser.add_argument("--chunk", type=int, default=250_000, help="calls per worker process")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds one call may take")
    parser.add_argument("--seed", type=int, default=17, help="seed of the first chunk")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.seed, args.calls, args.time_limit)
        return
    calls = 200_000 if args.quick else args.calls
    chunks = [min(args.chunk, calls - start) for start in range(0, calls, args.chunk)]

    from tests.hostile import HANG_EXIT

    started = time.perf_counter()
    totals: Counter[str] = Counter()
    crashes, hangs, slowest = [], [], 0
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = [
            pool.submit(run_chunk, args.seed + index, size, args.time_limit)
            for index, size in enumerate(chunks)
        ]
        for index, future in enumerate(futures):
            status, tally, stderr = future.result()
            if status in (HANG_EXIT, -999):
                hangs.append((args.seed + index, stderr[-2000:]))
            elif status != 0:
                crashes.append((args.seed + index, status, stderr[-2000:]))
            slowest = max(slowest, tally.pop("slowest_us", 0))
            totals.update(tally)
            print(f"chunk {index + 1}/{len(chunks)}: exit {status}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started

    made = totals.pop("calls", 0)
    raised = sum(n for problem, n in totals.items() if " raised " in problem)
    wrong = sum(totals.values()) - raised
    print(
        f"# flagkit fuzz benchmark ({time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {platform.machine()}, flagkit {flagkit.__version__})\n"
    )
    print(
        f"{len(chunks)} worker processes of up to {args.chunk:,} calls, {args.workers} at a time.\n"
    )
    print(
        "| calls | raised | wrong answers | crashed processes | hung processes |"
        " slowest call | wall time | calls/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {made:,} | {raised} | {wrong} | {len(crashes)} | {len(hangs)} | "
        f"{slowest / 1000:.1f} ms | {elapsed:.0f} s | {made / elapsed:,.0f} |"
    )
    for problem, count in totals.most_common():
        print(f"\n- {count} x {problem}")
    for seed, status, stderr in crashes:
        print(f"\ncrashed (seed {seed}, exit {status}):\n```\n{stderr}\n```")
    for seed, stderr in hangs:
        print(f"\nhung (seed {seed}):\n```\n{stderr}\n```")
    if made != calls or raised or wrong or crashes or hangs:
        sys.exit(1)


if __name__ == "__main__":
    main()
