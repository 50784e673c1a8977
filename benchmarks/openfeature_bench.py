"""OpenFeature benchmark: what the OpenFeature layer costs, and flagkit beside flagd's provider.

Run (needs the ``openfeature`` extra, and ``openfeature-provider-flagd`` for
the last column)::

    PYTHONPATH=src /work/venv-flagd/bin/python benchmarks/openfeature_bench.py [--quick]

One flagd document (a static flag, a 10% fractional rollout, a targeting
rule, a 3-way fractional split) is written to a file and evaluated for the
same users by:

- ``native``: flagkit's Client over the document converted to the native format;
- ``flagd``: flagkit's Client reading the flagd file (``format="flagd"``);
- ``OF+flagkit``: the OpenFeature API with ``FlagkitProvider`` over that client;
- ``OF+flagd``: the OpenFeature API with the official flagd provider,
  in-process file mode (``ResolverType.FILE``), reading the same file.

Prints a Markdown table of ns per evaluation (median of rounds) and the
ratios that matter: the OpenFeature layer's cost (``OF+flagkit`` /
``flagd``) and flagkit's speed-up over the official provider through the same
API (``OF+flagd`` / ``OF+flagkit``). The machine is shared: read ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

import flagkit
from flagkit.formats.flagd._convert import convert_flagd
from flagkit.openfeature import FlagkitProvider

DOCUMENT: dict[str, Any] = {
    "$schema": "https://flagd.dev/schema/v0/flags.json",
    "flags": {
        "static": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
        "rollout": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"fractional": [["on", 10], ["off", 90]]},
        },
        "rule": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {
                "if": [
                    {
                        "and": [
                            {"in": [{"var": "country"}, ["NL", "BE", "LU"]]},
                            {"ends_with": [{"var": "email"}, "@example.com"]},
                        ]
                    },
                    "on",
                    "off",
                ]
            },
        },
        "split": {
            "state": "ENABLED",
            "variants": {"a": "A", "b": "B", "c": "C"},
            "defaultVariant": "a",
            "targeting": {"fractional": [["a", 34], ["b", 33], ["c", 33]]},
        },
    },
}
CASES = [("static", "bool"), ("rollout", "bool"), ("rule", "bool"), ("split", "str")]

Call = Callable[[str, Any, Any], Any]


def users(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """Return ``count`` reproducible user contexts."""
    rng = random.Random(seed)
    return [
        {
            "targetingKey": f"user-{rng.randrange(10**9)}",
            "country": rng.choice(["NL", "BE", "DE", "FR", "LU"]),
            "email": f"u{i}@" + rng.choice(["example.com", "mail.test"]),
        }
        for i in range(count)
    ]


def ns_per_call(call: Call, key: str, default: Any, contexts: list[Any], rounds: int) -> float:
    """Return the median over ``rounds`` of ns per ``call(key, default, context)``."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for context in contexts:
            call(key, default, context)
        samples.append((time.perf_counter_ns() - started) / len(contexts))
    return statistics.median(samples)


class Columns:
    """The evaluators being compared, each a ``call(key, default, context)`` per value type."""

    def __init__(self, path: Path, population: list[dict[str, Any]]) -> None:
        conversion = convert_flagd(DOCUMENT)
        assert conversion.complete, conversion.problems
        self.native = flagkit.Client.from_dict(conversion.document)
        self.flagd = flagkit.Client.from_file(path, format="flagd")
        self.provider = FlagkitProvider(self.flagd)
        api.set_provider_and_wait(self.provider, "flagkit")
        self.of_flagkit = api.get_client("flagkit")
        self.of_contexts = [
            EvaluationContext(
                u["targetingKey"], {k: v for k, v in u.items() if k != "targetingKey"}
            )
            for u in population
        ]
        self.official: Any = None
        self.of_flagd: Any = None
        try:
            from openfeature.contrib.provider.flagd import FlagdProvider
            from openfeature.contrib.provider.flagd.config import ResolverType
        except ImportError:
            print("(openfeature-provider-flagd not installed: no flagd columns)", file=sys.stderr)
        else:
            self.official = FlagdProvider(
                resolver_type=ResolverType.FILE, offline_flag_source_path=str(path)
            )
            api.set_provider_and_wait(self.official, "flagd")
            self.of_flagd = api.get_client("flagd")

    def calls(self, kind: str) -> dict[str, tuple[Call, bool]]:
        """Return column -> (call, takes an OpenFeature context) for one value type."""
        direct = {"bool": "get_bool", "str": "get_str"}[kind]
        resolve = {"bool": "resolve_boolean_details", "str": "resolve_string_details"}[kind]
        value = {"bool": "get_boolean_value", "str": "get_string_value"}[kind]
        calls: dict[str, tuple[Call, bool]] = {
            "native": (getattr(self.native, direct), False),
            "flagd": (getattr(self.flagd, direct), False),
            "provider": (getattr(self.provider, resolve), True),
            "OF+flagkit": (getattr(self.of_flagkit, value), True),
        }
        if self.official is not None:
            calls["official"] = (getattr(self.official, resolve), True)
            calls["OF+flagd"] = (getattr(self.of_flagd, value), True)
        return calls


def _value(result: Any) -> Any:
    return getattr(result, "value", result)


def main() -> None:
    """Measure every column for every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer users and rounds")
    args = parser.parse_args()
    population = users(500 if args.quick else 5000)
    rounds = 3 if args.quick else 7
    slow = 200 if args.quick else 1000  # the official provider is measured on fewer users

    path = Path(tempfile.mkdtemp(prefix="flagkit-of-bench-")) / "flags.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    columns = Columns(path, population)
    rows = []
    for key, kind in CASES:
        default: Any = False if kind == "bool" else "?"
        calls = columns.calls(kind)
        # Every column must serve the same values before its speed means anything.
        for user, context in zip(population[:200], columns.of_contexts[:200], strict=True):
            values = {
                _value(call(key, default, context if of else user)) for call, of in calls.values()
            }
            assert len(values) == 1, (key, user, values)
        row = {}
        for name, (call, of) in calls.items():
            contexts: list[Any] = columns.of_contexts if of else population
            if name in ("official", "OF+flagd"):
                row[name] = ns_per_call(call, key, default, contexts[:slow], 3)
            else:
                row[name] = ns_per_call(call, key, default, contexts, rounds)
        rows.append((key, row))
    api.shutdown()
    _print_table(rows, len(population), rounds)


def _print_table(rows: list[tuple[str, dict[str, float]]], users: int, rounds: int) -> None:
    print(f"Python {platform.python_version()}, {users} users, median of {rounds} rounds")
    print()
    names = ["native", "flagd", "provider", "OF+flagkit", "official", "OF+flagd"]
    ratios = ["OF cost", "flagd÷flagkit (provider)", "flagd÷flagkit (OF API)"]
    print("| flag | " + " | ".join(f"{n} ns" for n in names) + " | " + " | ".join(ratios) + " |")
    print("|---" * (len(names) + len(ratios) + 1) + "|")
    for key, row in rows:
        cells = [f"{row[n]:,.0f}" if n in row else "-" for n in names]
        cells.append(f"+{row['OF+flagkit'] - row['provider']:,.0f} ns")
        if "official" in row:
            cells.append(f"{row['official'] / row['provider']:.1f}x")
            cells.append(f"{row['OF+flagd'] / row['OF+flagkit']:.1f}x")
        else:
            cells += ["-", "-"]
        print(f"| {key} | " + " | ".join(cells) + " |")
    print()
    print("native/flagd: flagkit's Client (converted native document / the flagd file);")
    print("provider/official: FlagkitProvider / the flagd provider, resolve_*_details called")
    print("directly; OF+...: through the OpenFeature client API (hooks, context merging).")
    print("OF cost: what the OpenFeature API adds per evaluation on top of the provider.")


if __name__ == "__main__":
    main()
