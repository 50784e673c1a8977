#!/usr/bin/env python3
"""Benchmark flagkit beside peer feature-flag SDKs, fully offline, with one command.

    python benchmarks/peers/run.py           # full run: builds .venv, installs peers, measures
    python benchmarks/peers/run.py --smoke   # flagkit + floor only, current interpreter, seconds

The full run creates ``benchmarks/peers/.venv``, installs the pinned peers from
``requirements.txt`` plus flagkit from the repository (``pip install -e .``),
re-runs itself inside that environment, and writes ``results.md`` (also printed)
and ``results.json`` next to this file.  It exits non-zero when any SDK tried
to open a network connection or returned a wrong answer.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VENV = HERE / ".venv"
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parent))
# Measure the flagkit of this checkout, even where another one is installed.
sys.path.insert(0, str(REPO / "src"))

from peers import measure, report  # noqa: E402
from peers.netguard import guard  # noqa: E402
from peers.sdks import ALL, LOAD_TABLE, Evaluator, load_adapter  # noqa: E402
from peers.sdks.base import distribution_version  # noqa: E402
from peers.workload import CASES, make_users  # noqa: E402


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """Create ``.venv`` and install the pinned peers plus flagkit when they changed."""
    python = _venv_python()
    if not python.exists():
        print(f"creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    requirements = HERE / "requirements.txt"
    stamp_file = VENV / ".flagkit-bench-stamp"
    digest = hashlib.sha256(
        requirements.read_bytes() + (REPO / "pyproject.toml").read_bytes()
    ).hexdigest()
    if not stamp_file.exists() or stamp_file.read_text() != digest:
        print("installing peers and flagkit into the benchmark venv", file=sys.stderr)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(requirements), "-e", str(REPO)], check=True)
        stamp_file.write_text(digest)
    return python


def _silence_logging() -> None:
    # SDK log records are created as usual (that cost is real) but dropped, as a
    # service whose log pipeline filters them would; nothing floods the terminal.
    root = logging.getLogger()
    root.addHandler(logging.NullHandler())
    root.setLevel(logging.WARNING)


def _available(names: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    adapters: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for name in names:
        guard.label = name
        try:
            adapter = load_adapter(name)
            if name == "flagkit":
                import flagkit

                if not hasattr(flagkit, "Client"):
                    raise ImportError("flagkit.Client is not implemented yet")
            adapters[name] = adapter
        except ImportError as exc:
            unavailable[name] = str(exc)
    return adapters, unavailable


def _calibrate(evaluator: Evaluator, users: list[Any], budget_ns: float, cap: int) -> int:
    """Return the batch size: users per case and round, within ``budget_ns`` per batch.

    Sized on the second pass: a first call's one-time costs (compiling a flag
    on first use, searching near matches for an unknown key, warming
    caches) would otherwise shrink the batch of the SDK that pays them
    (flagkit at 10,000 flags got 150 users where its peers got 1,429), and a
    smaller batch spreads each batch's cold start over fewer calls, which
    inflates its per-call time.
    """
    contexts = [evaluator.context(user) for user in users[:20]]
    for case in CASES:
        measure.run_case(evaluator, case, contexts)
    slowest = max(measure.run_case(evaluator, case, contexts)[0] / len(contexts) for case in CASES)
    return max(10, min(cap, int(budget_ns / max(slowest, 1.0))))


def measure_calls(
    adapters: dict[str, Any], users: list[Any], sizes: list[int], rounds: int, budget_ns: float
) -> dict[str, Any]:
    """Load every SDK at each size and time every case in interleaved rounds."""
    per_round = -(-len(users) // rounds)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="flag-bench-") as tmp:
        for size in sizes:
            directory = Path(tmp) / f"flags-{size}"
            directory.mkdir()
            evaluators: dict[str, Evaluator] = {}
            batch: dict[str, int] = {}
            for name, adapter in adapters.items():
                guard.label = name
                evaluators[name] = adapter.load(adapter.write_document(size, directory))
                batch[name] = _calibrate(evaluators[name], users, budget_ns, per_round)
            # Park every loaded object in the permanent generation: the per-batch
            # gc.collect() then scans only young objects, however big the SDKs are.
            gc.collect()
            gc.freeze()
            samples = {name: {case: measure.CaseSamples() for case in CASES} for name in evaluators}
            names = list(evaluators)
            for round_index in range(rounds):
                # Rotate the order so no SDK always runs first (cache, turbo, noise).
                shift = round_index % len(names)
                for name in names[shift:] + names[:shift]:
                    guard.label = name
                    evaluator = evaluators[name]
                    start = round_index * per_round
                    chunk = users[start : start + batch[name]]
                    for case in CASES:
                        contexts = [evaluator.context(user) for user in chunk]
                        elapsed, values = measure.run_case(evaluator, case, contexts)
                        case_samples = samples[name][case]
                        case_samples.ns_per_call.append(elapsed / len(contexts))
                        case_samples.users.extend(chunk)
                        case_samples.values.extend(values)
                print(f"  {size} flags: round {round_index + 1}/{rounds} done", file=sys.stderr)
            for name, evaluator in evaluators.items():
                guard.label = name
                evaluator.close()
            gc.unfreeze()
            results[str(size)] = {
                name: {
                    "batch": batch[name],
                    "median_ns": {case: samples[name][case].median() for case in CASES},
                    "rounds_ns": {case: samples[name][case].ns_per_call for case in CASES},
                    "correctness": measure.check(samples[name]),
                }
                for name in names
            }
    return results


def measure_loads(
    names: list[str],
    adapters: dict[str, Any],
    sizes: list[int],
    repeats: int,
    probe: Any,
    *,
    every_size: tuple[str, ...] = LOAD_TABLE,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Measure load-and-ready time and RSS added, each load in a fresh subprocess.

    Past 10,000 flags only ``every_size`` is measured; ``json.loads`` (of
    flagkit's file) is measured beside flagkit whenever flagkit is.
    """
    results: dict[str, Any] = {}
    attempts: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="flag-bench-load-") as tmp:
        for size in sizes:
            directory = Path(tmp) / f"flags-{size}"
            directory.mkdir()
            measured = [name for name in names if size <= 10_000 or name in every_size]
            paths = {name: adapters[name].write_document(size, directory) for name in measured}
            if "flagkit" in paths:
                measured.append("json.loads")
                paths["json.loads"] = paths["flagkit"]
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in measured}
            for _ in range(repeats):
                for name in measured:
                    command = [sys.executable, str(Path(__file__).resolve())]
                    command += ["--load-child", name, str(paths[name]), probe.key]
                    done = subprocess.run(command, capture_output=True, text=True, check=False)
                    if done.returncode != 0:
                        raise RuntimeError(f"load of {name} at {size} failed:\n{done.stderr}")
                    child = json.loads(done.stdout.strip().splitlines()[-1])
                    attempts.extend(child["network_attempts"])
                    runs[name].append(child)
            results[str(size)] = {
                name: {
                    "load_seconds": _median([run["load_seconds"] for run in runs[name]]),
                    "warm_load_seconds": _median(
                        [run.get("warm_load_seconds", 0.0) for run in runs[name]]
                    ),
                    "rss_added_bytes": _median([run["rss_added_bytes"] for run in runs[name]]),
                    "peak_added_bytes": _median(
                        [run["peak_added_bytes"] or 0 for run in runs[name]]
                    ),
                    "import_seconds": _median([run["import_seconds"] for run in runs[name]]),
                    "runs": runs[name],
                }
                for name in measured
            }
            print(f"  load at {size} flags measured", file=sys.stderr)
    return results, attempts


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def profile_peers(adapters: dict[str, Any], users: list[Any]) -> dict[str, Any]:
    """Profile each SDK's all-four path once, with 4 flags loaded."""
    profiles: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="flag-bench-profile-") as tmp:
        for name, adapter in adapters.items():
            if name == "floor":
                continue
            guard.label = name
            evaluator = adapter.load(adapter.write_document(4, Path(tmp)))
            profiles[name] = measure.profile_calls(evaluator, users)
            evaluator.close()
    return profiles


def environment(names: list[str], adapters: dict[str, Any]) -> dict[str, Any]:
    """Describe the machine, the interpreter and every measured package version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {
        name: {dist: distribution_version(dist) for dist in adapters[name].distributions}
        for name in names
        if name in adapters
    }
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "versions": versions,
    }


def run(args: argparse.Namespace) -> int:
    """Measure, check, report; return the process exit code."""
    _silence_logging()
    guard.install()
    wanted = ["flagkit", "floor"] if args.smoke else list(ALL)
    if args.sdks:
        wanted = [name for name in wanted if name in args.sdks.split(",")]
    adapters, unavailable = _available(wanted)
    names = [name for name in wanted if name in adapters]
    for name, reason in unavailable.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    if args.smoke:
        users = make_users(args.users or 600)
        sizes, load_sizes, rounds, repeats, budget = [4, 1000], [1000], 3, 1, 2e6
    else:
        users = make_users(args.users or 10_000)
        sizes, load_sizes, rounds, repeats, budget = (
            [4, 1000, 10_000],
            [1000, 10_000, 100_000],
            7,
            3,
            1e8,
        )
    if args.rounds:
        rounds = args.rounds
    if args.load_sizes:
        load_sizes = [int(size) for size in args.load_sizes.split(",")]
    if args.load_repeats:
        repeats = args.load_repeats
    if args.loads_only:
        sizes = []
    print(f"per-call: {', '.join(names)} at {sizes} flags", file=sys.stderr)
    calls = measure_calls(adapters, users, sizes, rounds, budget)
    print("load and memory (fresh subprocesses)", file=sys.stderr)
    loads, child_attempts = measure_loads(names, adapters, load_sizes, repeats, users[0])
    skip_profiles = args.smoke or args.loads_only
    profiles = {} if skip_profiles else profile_peers(adapters, users[: args.profile_users])
    guard.label = "harness"
    attempts = [
        {key: attempt[key] for key in ("sdk", "operation", "target")} for attempt in guard.attempts
    ] + child_attempts
    results = {
        "mode": "smoke" if args.smoke else "full",
        "environment": environment(names, adapters),
        "unavailable": unavailable,
        "users": len(users),
        "rounds": rounds,
        "calls": calls,
        "loads": loads,
        "profiles": profiles,
        "network_attempts": attempts,
    }
    markdown = report.render(results)
    out = Path(args.out) if args.out else HERE
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "results.md").write_text(markdown)
    if profiles:
        (out / "profiles.txt").write_text(report.render_profiles(profiles))
    print(markdown)
    failed = [
        f"{name} at {size} flags: {'; '.join(result['correctness']['problems'])}"
        for size, by_sdk in calls.items()
        for name, result in by_sdk.items()
        if not result["correctness"]["ok"]
    ]
    for problem in failed:
        print(f"WRONG ANSWERS: {problem}", file=sys.stderr)
    for attempt in attempts:
        print(f"NETWORK ATTEMPT by {attempt['sdk']}: {attempt['operation']}", file=sys.stderr)
    return 1 if failed or attempts else 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="flagkit + floor, tiny, no venv")
    parser.add_argument("--sdks", help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--users", type=int, help="number of distinct users")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per size")
    parser.add_argument(
        "--load-sizes",
        help="comma-separated flag counts for the load table (default 1000,10000,100000)",
    )
    parser.add_argument("--loads-only", action="store_true", help="skip the per-call rounds")
    parser.add_argument("--load-repeats", type=int, help="fresh processes per load (default 3)")
    parser.add_argument("--profile-users", type=int, default=2000, help="users per profile")
    parser.add_argument("--out", help="directory for results.md/json (default: next to run.py)")
    parser.add_argument("--no-venv", action="store_true", help="measure in this interpreter")
    parser.add_argument(
        "--load-child", nargs=3, metavar=("SDK", "PATH", "USER"), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point: set up the venv when needed, then measure inside it."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.load_child:
        _silence_logging()
        name, path, user_key = args.load_child
        probe = next(user for user in make_users(1) if user.key == user_key)
        print(measure.dump(measure.load_child(name, Path(path), probe)))
        return 0
    if not (args.smoke or args.no_venv):
        python = ensure_venv()
        if Path(sys.prefix).resolve() != VENV.resolve():
            completed = subprocess.run(
                [str(python), str(Path(__file__).resolve()), "--no-venv", *argv],
                check=False,
            )
            return completed.returncode
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
