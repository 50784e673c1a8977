"""The users a simulation or a diff evaluates: synthetic, or read from a context file."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from flagkit._cli.common import parse_value, read_contexts, set_path, usage_error
from flagkit._core.plan import Plan

__all__ = ["add_population_options", "bucketing_attributes", "population"]

_PROGRESS_EVERY = 10_000


def add_population_options(parser: argparse.ArgumentParser) -> None:
    """Add --users, --attr, --seed, --contexts and --progress."""
    parser.add_argument(
        "--users", type=int, default=10_000, metavar="N", help="synthetic users (default 10000)"
    )
    parser.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="give synthetic users these values (round-robin, or random with --seed)",
    )
    parser.add_argument("--seed", type=int, help="draw --attr values and keys at random")
    parser.add_argument(
        "--contexts", metavar="FILE.jsonl", help="evaluate these contexts instead (one per line)"
    )
    parser.add_argument(
        "--progress", action="store_true", help="show progress on stderr even when not a TTY"
    )


def bucketing_attributes(plans: Iterable[Plan]) -> set[str]:
    """Return every rollout's bucketing attribute other than the targeting key."""
    found = {split.attribute for plan in plans for split in plan.splits()}
    found.discard("targetingKey")
    return found


def population(
    args: argparse.Namespace, *, unique: Iterable[str] = (), stderr: TextIO | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the contexts the options ask for.

    Synthetic user ``i`` has targeting key ``user-i`` (a random key with
    ``--seed``) and, for each attribute in ``unique`` that ``--attr`` does not
    set, a value of its own, so that rollouts by another attribute (``org.id``)
    spread too. Bad lines of a context file are skipped and counted on stderr.
    """
    if args.contexts is not None:
        return _from_file(args.contexts, args.progress, stderr or sys.stderr)
    if args.users < 1:
        raise usage_error(f"--users must be at least 1, got {args.users}")
    attributes = [_parse_attr(text) for text in args.attr]
    given = {key for key, _ in attributes}
    return _synthetic(
        args.users, attributes, sorted(set(unique) - given - {"targetingKey"}), args.seed
    )


def _parse_attr(text: str) -> tuple[str, list[Any]]:
    key, sep, values = text.partition("=")
    if not sep or not key or not values:
        raise usage_error(f"--attr expects KEY=V1,V2,..., got {text!r}")
    return key, [parse_value(v) for v in values.split(",")]


def _synthetic(
    count: int,
    attributes: Sequence[tuple[str, list[Any]]],
    unique: Sequence[str],
    seed: int | None,
) -> Iterator[dict[str, Any]]:
    rng = None if seed is None else random.Random(seed)
    for i in range(count):
        key = f"user-{i}" if rng is None else f"user-{rng.getrandbits(64):016x}"
        context: dict[str, Any] = {"targetingKey": key}
        # Round-robin in mixed radix: every combination of --attr values recurs evenly.
        stride = 1
        for name, values in attributes:
            if rng is None:
                value = values[(i // stride) % len(values)]
                stride *= len(values)
            else:
                value = rng.choice(values)
            set_path(context, name, value, "--attr")
        for name in unique:
            set_path(context, name, f"{name}-{key}", "--attr")
        yield context


def _from_file(path: str, force_progress: bool, stderr: TextIO) -> Iterator[dict[str, Any]]:
    show = force_progress or stderr.isatty()
    skipped = count = 0
    for count, parsed in read_contexts(path):
        if isinstance(parsed, str):
            skipped += 1
            continue
        if show and count % _PROGRESS_EVERY == 0:
            stderr.write(f"\r{count} contexts read")
            stderr.flush()
        yield parsed
    if show:
        stderr.write(f"\r{count} contexts read\n")
    if skipped:
        stderr.write(f"flagkit: skipped {skipped} lines of {path} that are not JSON objects\n")
