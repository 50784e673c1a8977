"""Client benchmark: what observing an evaluation costs, as ratios to the plain getter.

Run: ``python benchmarks/client.py`` (``--quick`` for a short run). Every
variant is measured interleaved with its baseline in the same rounds, and
reported as a ratio to it (this machine is shared; ratios are stable,
absolute nanoseconds are context). ``--cpu`` times each pass by the
thread's CPU time instead of the wall clock, which time spent waiting for a
busy machine's cores does not inflate.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import BOOL, document, users

import flagkit

Call = Callable[[dict[str, Any]], Any]


CLOCK = time.perf_counter_ns


def timed(call: Call, population: list[dict[str, Any]]) -> float:
    started = CLOCK()
    for user in population:
        call(user)
    return (CLOCK() - started) / len(population)


class NoOpHook(flagkit.Hook):
    """A hook with every stage present and doing nothing."""


def discard(events: Sequence[flagkit.ExposureEvent]) -> None:
    """An exposure sink that drops events (we measure the caller's side)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="time by thread CPU time")
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.thread_time_ns
    rounds = 5 if args.quick else 15
    population = users(2_000 if args.quick else 10_000)
    doc = document()
    doc["flags"]["experiment"] = {
        "kind": "experiment",
        "variants": BOOL,
        "default": {"rollout": {"weights": {"on": 50, "off": 50}}},
    }
    errors = {"metric": "error_rate", "effect": 0.005}
    latency = {"metric": "latency", "effect": 0.05}
    for key, metrics in (("guarded", [errors]), ("guarded-latency", [errors, latency])):
        guard = {"control": "off", "metrics": metrics}
        doc["flags"][key] = {
            "variants": BOOL,
            "default": {"rollout": {"weights": {"on": 50, "off": 50}, "guard": guard}},
        }

    plain = flagkit.Client.from_dict(doc)
    hooked = flagkit.Client.from_dict(doc, hooks=[NoOpHook()])
    counting = flagkit.Client.from_dict(doc, counters=True)
    exposing = flagkit.Client.from_dict(doc, exposures=discard)

    def new_impl(user: dict[str, Any]) -> int:
        return 1

    def old_impl(user: dict[str, Any]) -> int:
        return 0

    decorated = plain.feature("rule", fallback=old_impl, context=lambda user: user)(new_impl)
    get_bool = plain.get_bool

    def identity(user: dict[str, Any]) -> dict[str, Any]:
        return user

    def toggle(flag: str) -> Call:
        return plain.feature(flag, fallback=old_impl, context=identity)(new_impl)

    unguarded, guarded, latency_guarded = (
        toggle("experiment"),
        toggle("guarded"),
        toggle("guarded-latency"),
    )
    bare = flagkit.Client.from_dict(document())  # no experiment, no guard, no sink

    def by_hand(user: dict[str, Any]) -> int:
        return (new_impl if get_bool("rule", False, user) else old_impl)(user)

    cases: dict[str, tuple[Call, Call]] = {
        "one no-op hook (rule flag)": (
            lambda u: plain.get_bool("rule", False, u),
            lambda u: hooked.get_bool("rule", False, u),
        ),
        "built-in counters (rule flag)": (
            lambda u: plain.get_bool("rule", False, u),
            lambda u: counting.get_bool("rule", False, u),
        ),
        "exposure events (experiment flag)": (
            lambda u: plain.get_bool("experiment", False, u),
            lambda u: exposing.get_bool("experiment", False, u),
        ),
        "feature decorator vs call + evaluation by hand": (by_hand, decorated),
        "guarded toggle point (error rate) vs plain decorator": (unguarded, guarded),
        "guarded toggle point (errors + p95 latency) vs plain decorator": (
            unguarded,
            latency_guarded,
        ),
        "track(), nothing opted in, vs plain getter": (
            lambda u: bare.get_bool("rule", False, u),
            lambda u: bare.track("purchase", u, 1.0),
        ),
    }
    targets = {
        "built-in counters (rule flag)": 1.5,
        "feature decorator vs call + evaluation by hand": 2.0,
        "guarded toggle point (error rate) vs plain decorator": 1.5,
        "guarded toggle point (errors + p95 latency) vs plain decorator": 1.5,
    }
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in cases}
    for _ in range(rounds):
        for name, (base, variant) in cases.items():
            samples[name][0].append(timed(base, population))
            samples[name][1].append(timed(variant, population))

    print(
        f"# flagkit client benchmark ({time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{'thread CPU time' if args.cpu else 'wall clock'})\n"
    )
    print("| variant | baseline ns | variant ns | ratio | target |")
    print("|---|---:|---:|---:|:---:|")
    for name, (base, variant) in samples.items():
        b, v = statistics.median(base), statistics.median(variant)
        target = targets.get(name)
        verdict = (
            "-"
            if target is None
            else (f"<= {target}x met" if v / b <= target else f"<= {target}x MISSED")
        )
        print(f"| {name} | {b:.0f} | {v:.0f} | {v / b:.2f}x | {verdict} |")
    # Both variants run the same no-op, so a guard should not trip; if one does (a
    # false alarm, or a timing artefact of the machine), its flag served the control
    # from then on and the guarded rows did not measure the rollout: say so.
    for status in plain.status().guards:
        if status.trip is not None:
            print(f"\nWARNING: the guard on {status.flag_key!r} tripped during the run, so its")
            print(f"row measured the rolled-back flag: {status.trip.evidence.describe()}")
    exposing.close()


if __name__ == "__main__":
    main()
