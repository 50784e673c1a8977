"""The floor: a hand-written minimal evaluator (dict lookup, mmh3, compare).

It is what any flag evaluation must at least cost in CPython: one dict lookup
for the flag, one murmur3 hash for a rollout, one or two comparisons for a
rule.  It has no validation, no details, no hooks and no error handling.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mmh3

from peers.workload import User

from .base import Evaluator
from .native import document

_hash = mmh3.hash
Compiled = Callable[[str, dict[str, Any]], Any]


def _compile(key: str, flag: dict[str, Any]) -> Compiled:
    variants = flag["variants"]
    default = flag["default"]
    rules = flag.get("rules", [])
    if rules:
        when = rules[0]["when"]
        values = frozenset(when[0]["values"])
        attribute, other, wanted = when[0]["attribute"], when[1]["attribute"], when[1]["value"]
        hit, miss = variants[rules[0]["serve"]], variants[default]

        def rule(_key: str, ctx: dict[str, Any]) -> Any:
            return hit if ctx[attribute] in values and ctx[other] == wanted else miss

        return rule
    if isinstance(default, str):
        value = variants[default]
        return lambda _key, _ctx: value
    # A rollout: cumulative thresholds in hundredths of a percent.
    thresholds: list[tuple[int, Any]] = []
    total = 0
    for name, weight in default["rollout"]["weights"].items():
        total += round(weight * 100)
        thresholds.append((total, variants[name]))

    def rollout(salt: str, ctx: dict[str, Any]) -> Any:
        bucket = (_hash(salt + ctx["targetingKey"], 0, False) * 10_000) >> 32
        for threshold, value in thresholds:
            if bucket < threshold:
                return value
        return thresholds[-1][1]

    return rollout


class FloorAdapter:
    name = "floor"
    distributions = ("mmh3",)

    def write_document(self, total_flags: int, directory: Path) -> Path:
        path = directory / "floor.json"
        path.write_text(json.dumps(document(total_flags)), encoding="utf-8")
        return path

    def load(self, path: Path) -> Evaluator:
        flags = json.loads(path.read_text(encoding="utf-8"))["flags"]
        compiled = {key: _compile(key, flag) for key, flag in flags.items()}
        get = compiled.get

        def evaluate(key: str, ctx: dict[str, Any]) -> Any:
            flag = get(key)
            return None if flag is None else flag(key, ctx)

        return Evaluator(
            context=User.as_dict,
            bool_value=evaluate,
            str_value=evaluate,
            close=lambda: None,
        )


ADAPTER = FloorAdapter()
