"""flagd's evaluator test kit (flagd-testbed, ``evaluator/``): read its Gherkin, run its cases.

The kit lives read-only in ``../shared/conformance/flagd/evaluator/`` beside
the project root (see its README). This module parses the feature files
into cases (one per plain scenario, one per example row), with the steps
worded and cast as flagd's own Python runner reads them, and checks one
case's Then-steps against what an evaluation returned.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: Example rows with these tags are not part of the v2 set (the retired hashing).
EXCLUDED_TAGS = frozenset({"@fractional-v1", "@deprecated"})


def kit_directory() -> Path:
    """Return the kit's ``evaluator`` directory (``FLAGKIT_SHARED`` overrides the search)."""
    override = os.environ.get("FLAGKIT_SHARED")
    candidates = [Path(override)] if override else []
    candidates += [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
    for shared in candidates:
        evaluator = shared / "conformance" / "flagd" / "evaluator"
        if (evaluator / "flags" / "testkit-flags.json").is_file():
            return evaluator
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"flagd's evaluator test kit is not in any of: {searched}")


@dataclass
class Case:
    """One scenario (or example row): the flag, its type and default, the context, the checks."""

    name: str
    flag_type: str = "String"
    key: str = ""
    default: Any = None
    targeting_key: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    checks: list[tuple[str, Any]] = field(default_factory=list)


def _unescape(cell: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), cell)


def _row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [_unescape(cell.strip()) for cell in cells]


def cast(kind: str, text: str) -> Any:
    """Cast a cell by a type name, as flagd's runner does."""
    if kind == "Boolean":
        return text.lower() in ("true", "yes", "t", "1")
    if kind == "Integer":
        return int(text)
    if kind == "Float":
        return float(text)
    if kind == "Object":
        return json.loads(text)
    return text


_STEPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'^an? (\w+)-flag with key "(.*)" and a fallback value "(.*)"$'), "flag"),
    (re.compile(r'^a context containing a targeting key with value "(.*)"$'), "targeting_key"),
    (
        re.compile(r'^a context containing a key "(.*)", with type "(\w+)" and with value "(.*)"$'),
        "attribute",
    ),
    (
        re.compile(
            r'^a context containing a nested property with outer key "(.*)" and inner key "(.*)",'
            r' with value "(.*)"$'
        ),
        "nested",
    ),
    (re.compile(r'^the resolved details value should be "(.*)"$'), "value"),
    (re.compile(r'^the reason should be "(.*)"$'), "reason"),
    (re.compile(r'^the error-code should be "(.*)"$'), "error_code"),
    (re.compile(r'^the variant should be "(.*)"$'), "variant"),
    (re.compile(r"^the resolved metadata should contain$"), "metadata"),
    (re.compile(r"^the resolved metadata is empty$"), "no_metadata"),
    (re.compile(r"^an evaluator$"), "ignore"),
    (re.compile(r"^the flag was evaluated with details$"), "ignore"),
]


def _apply(case: Case, step: str, table: list[list[str]]) -> None:
    for pattern, kind in _STEPS:
        match = pattern.match(step)
        if match is None:
            continue
        groups = match.groups()
        if kind == "flag":
            case.flag_type, case.key = groups[0], groups[1]
            case.default = cast(groups[0], groups[2])
        elif kind == "targeting_key":
            case.targeting_key = groups[0]
        elif kind == "attribute":
            case.attributes[groups[0]] = cast(groups[1], groups[2]) if groups[2] else ""
        elif kind == "nested":
            case.attributes.setdefault(groups[0], {})[groups[1]] = groups[2]
        elif kind == "value":
            case.checks.append(("value", groups[0]))
        elif kind == "metadata":
            expected = {row[0]: cast(row[1], row[2]) for row in table[1:]}
            case.checks.append(("metadata", expected))
        elif kind == "no_metadata":
            case.checks.append(("metadata", {}))
        elif kind != "ignore":
            case.checks.append((kind, groups[0]))
        return
    raise ValueError(f"unknown step: {step!r}")


@dataclass
class _Scenario:
    name: str
    tags: set[str]
    steps: list[tuple[str, list[list[str]]]] = field(default_factory=list)
    examples: list[tuple[set[str], list[list[str]]]] = field(default_factory=list)


def _scenarios(text: str) -> Iterator[tuple[_Scenario, list[tuple[str, list[list[str]]]]]]:
    feature_tags: set[str] = set()
    background: list[tuple[str, list[list[str]]]] = []
    pending: set[str] = set()
    current: _Scenario | None = None
    target: list[tuple[str, list[list[str]]]] = background
    table: list[list[str]] | None = None
    scenarios: list[_Scenario] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            pending |= set(line.split())
            continue
        if line.startswith("Feature:"):
            feature_tags, pending = pending, set()
        elif line.startswith("Background:"):
            target = background
        elif line.startswith(("Scenario:", "Scenario Outline:")):
            current = _Scenario(line.split(":", 1)[1].strip(), feature_tags | pending)
            scenarios.append(current)
            pending, target = set(), current.steps
        elif line.startswith("Examples:"):
            assert current is not None
            table = []
            current.examples.append((pending, table))
            pending = set()
        elif line.startswith("|"):
            if table is not None:
                table.append(_row(line))
            else:
                target[-1][1].append(_row(line))
        else:
            table = None
            step = re.sub(r"^(Given|When|Then|And|But)\s+", "", line)
            target.append((step, []))
    for scenario in scenarios:
        yield scenario, background


def _fill(step: str, row: dict[str, str]) -> str:
    return re.sub(r"<([^>]+)>", lambda m: row.get(m[1], m[0]), step)


def cases(directory: Path) -> list[Case]:
    """Return every case of the kit's v2 set (``@fractional-v1`` and ``@deprecated`` left out)."""
    found: list[Case] = []
    for path in sorted((directory / "gherkin").glob("*.feature")):
        for scenario, background in _scenarios(path.read_text("utf-8")):
            if scenario.tags & EXCLUDED_TAGS:
                continue
            rows: list[tuple[str, dict[str, str]]] = []
            if scenario.examples:
                for tags, table in scenario.examples:
                    if tags & EXCLUDED_TAGS or not table:
                        continue
                    header = table[0]
                    rows += [
                        (
                            f"{path.stem}: {scenario.name} {cells}",
                            dict(zip(header, cells, strict=True)),
                        )
                        for cells in table[1:]
                    ]
            else:
                rows.append((f"{path.stem}: {scenario.name}", {}))
            for name, row in rows:
                case = Case(name)
                for step, table_rows in [*background, *scenario.steps]:
                    _apply(case, _fill(step, row), [[_fill(c, row) for c in r] for r in table_rows])
                found.append(case)
    return found


@dataclass
class Outcome:
    """What an evaluation returned, in the kit's terms."""

    value: Any
    variant: str | None
    reason: str
    error_code: str | None
    metadata: dict[str, Any]


def failures(case: Case, outcome: Outcome) -> list[str]:
    """Return a line for each Then-step of ``case`` that ``outcome`` does not meet."""
    problems = []
    for kind, expected in case.checks:
        if kind == "value":
            want = cast(case.flag_type, expected)
            if want != outcome.value or type(want) is not type(outcome.value):
                problems.append(f"value {outcome.value!r}, expected {want!r}")
        elif kind == "reason" and expected != outcome.reason:
            problems.append(f"reason {outcome.reason}, expected {expected}")
        elif kind == "error_code" and expected != outcome.error_code:
            problems.append(f"error code {outcome.error_code}, expected {expected}")
        elif kind == "variant" and expected != outcome.variant:
            problems.append(f"variant {outcome.variant}, expected {expected}")
        elif kind == "metadata":
            shown = {k: outcome.metadata.get(k) for k in expected} if expected else outcome.metadata
            if shown != expected:
                problems.append(f"metadata {outcome.metadata}, expected {expected}")
    return problems
