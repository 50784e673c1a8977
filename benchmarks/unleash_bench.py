"""Unleash benchmark: flagkit evaluating Unleash features against UnleashClient, same run.

Run: ``python benchmarks/unleash_bench.py`` (``--quick`` for a short run).
Both evaluate the same client API document for the same users: flagkit
through ``flagkit.formats.unleash`` (``Client.get_bool`` /
``Client.get_variant``), Unleash's official Python SDK (``UnleashClient``
6.9.1, its Rust engine ``yggdrasil-engine``) bootstrapped from a file and
kept off the network, as benchmarks/peers sets it up. Each round times
every case for both, interleaved; the table gives the median ns per call
and the ratio (this machine is shared and noisy: the ratios are the result,
absolute nanoseconds are context). The ratio is the median of the rounds'
own ratios (each round times both back to back, so a load change between
rounds does not skew it). Before timing, the two are checked to answer the
same for every user.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flagkit
from flagkit.formats.unleash import snapshot_from_unleash

APP = "flagkit-benchmark"
#: The target of issue 13: flagkit at least this many times faster per call.
TARGET_RATIO = 50.0

DOCUMENT: dict[str, Any] = {
    "version": 2,
    "features": [
        {
            "name": "rollout",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "25", "stickiness": "default", "groupId": "rollout"},
                }
            ],
        },
        {
            "name": "constrained",
            "enabled": True,
            "strategies": [
                {
                    "name": "default",
                    "constraints": [
                        {"contextName": "country", "operator": "IN", "values": ["NL", "BE", "DE"]},
                        {"contextName": "plan", "operator": "IN", "values": ["pro", "team"]},
                    ],
                }
            ],
        },
        {
            "name": "variants",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {
                        "rollout": "100",
                        "stickiness": "default",
                        "groupId": "variants",
                    },
                    "variants": [
                        {
                            "name": "control",
                            "weight": 500,
                            "stickiness": "default",
                            "payload": {"type": "string", "value": "9.99"},
                        },
                        {
                            "name": "treatment",
                            "weight": 500,
                            "stickiness": "default",
                            "payload": {"type": "json", "value": '{"price": 7.99}'},
                        },
                    ],
                }
            ],
        },
    ],
}

Call = Callable[[dict[str, Any]], Any]


def users(count: int) -> list[dict[str, Any]]:
    """Return Unleash-style contexts: a userId and two properties."""
    countries = ("NL", "BE", "DE", "FR", "US")
    plans = ("free", "pro", "team")
    return [
        {
            "userId": f"user-{i}",
            "properties": {"country": countries[i % 5], "plan": plans[(i // 5) % 3]},
        }
        for i in range(count)
    ]


def unleash_client(directory: Path) -> Any:
    """Return UnleashClient bootstrapped with DOCUMENT, with metrics and registration off."""
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    path = directory / "unleash.json"
    path.write_text(json.dumps(DOCUMENT))
    cache = FileCache(APP, directory=str(directory))
    cache.bootstrap_from_file(path)
    client = UnleashClient(
        url="http://unleash.invalid/api",
        app_name=APP,
        instance_id="benchmark",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
    )
    client.initialize_client(fetch_toggles=False)
    return client


def timed(call: Call, population: list[dict[str, Any]]) -> float:
    started = time.perf_counter_ns()
    for user in population:
        call(user)
    return (time.perf_counter_ns() - started) / len(population)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer users and rounds")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    population = users(2_000 if args.quick else 10_000)
    # UnleashClient is ~100x slower: time it on a slice so a round stays short.
    slow_population = population[: len(population) // 10]

    mine = flagkit.Client(snapshot_from_unleash(DOCUMENT, app_name=APP, environment="default"))
    reference = unleash_client(Path(tempfile.mkdtemp(prefix="unleash-bench-")))
    # Methods bound once, as an application holding a client would (and as
    # benchmarks/peers does): the loop then times the call, not the lookup.
    get_bool, get_variant = mine.get_bool, mine.get_variant
    is_enabled, reference_variant = reference.is_enabled, reference.get_variant
    cases: list[tuple[str, Call, Call]] = [
        (
            "flexibleRollout 25% (is_enabled)",
            lambda u: get_bool("rollout", False, u),
            lambda u: is_enabled("rollout", u),
        ),
        (
            "constrained strategy, 2 constraints (is_enabled)",
            lambda u: get_bool("constrained", False, u),
            lambda u: is_enabled("constrained", u),
        ),
        (
            "variant lookup, 2 variants (get_variant)",
            lambda u: get_variant("variants", u),
            lambda u: reference_variant("variants", u),
        ),
    ]
    # Same answers for every user, or the comparison means nothing.
    for user in population:
        for feature in ("rollout", "constrained"):
            assert mine.get_bool(feature, False, user) == reference.is_enabled(feature, user)
        assert mine.get_variant("variants", user).to_dict() == reference.get_variant(
            "variants", user
        )

    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _, _ in cases}
    for _ in range(rounds):
        for name, ours, theirs in cases:
            samples[name][0].append(timed(ours, population))
            samples[name][1].append(timed(theirs, slow_population))
    reference.destroy()

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {rounds} rounds, "
        f"{len(population)} users (UnleashClient: {len(slow_population)})"
    )
    print(f"checked first: both answer the same for all {len(population)} users\n")
    print("| case | flagkit ns/call | UnleashClient ns/call | ratio |")
    print("|---|---:|---:|---:|")
    worst = float("inf")
    for name, _, _ in cases:
        ours, theirs = (statistics.median(s) for s in samples[name])
        ratio = statistics.median(t / o for o, t in zip(*samples[name], strict=True))
        worst = min(worst, ratio)
        print(f"| {name} | {ours:,.0f} | {theirs:,.0f} | {ratio:,.0f}x |")
    verdict = "met" if worst >= TARGET_RATIO else "NOT met"
    print(f"\nslowest ratio {worst:,.0f}x; target >= {TARGET_RATIO:.0f}x: {verdict}")


if __name__ == "__main__":
    main()
