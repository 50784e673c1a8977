"""Cross-reference checks on a structurally valid document.

Pydantic checks each field's shape; this module checks what only the whole
document can tell: that variants, segments and prerequisites exist, that
weights add up, that patterns and versions parse, and that prerequisites do
not form a cycle. Every problem is collected; nothing stops at the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from flagkit._core import rollouts
from flagkit._core.bucketing import encodes_as_utf8
from flagkit._core.safe_regex import UnsafePatternError
from flagkit._core.semver import parse_version
from flagkit._core.timeutil import timestamp_of
from flagkit._definitions.model import (
    Condition,
    Flag,
    Guard,
    Rollout,
    Segment,
    Serve,
    ServeRollout,
    ServeVariant,
)
from flagkit._errors import Problem

__all__ = ["check_document", "value_type_of"]

Path = tuple[str | int, ...]

_NUMERIC = {"lt", "lte", "gt", "gte"}
_STRING = {"starts_with", "ends_with", "matches"}
_SEMVER = {"semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte"}
_INSTANT = {"before", "after"}


def value_type_of(value: Any) -> str:
    """Return the flag value type of one variant value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "object"


def check_document(
    flags: Mapping[str, Flag],
    segments: Mapping[str, Segment],
    *,
    known_flags: Iterable[str] = (),
    known_segments: Iterable[str] = (),
) -> list[Problem]:
    """Return every cross-reference problem in the document.

    ``known_flags`` / ``known_segments`` name entries that exist but failed
    structural validation: references to them are not reported again.
    """
    problems: list[Problem] = []
    segment_names = set(segments) | set(known_segments)
    for name, segment in segments.items():
        problems += _check_segment(("segments", name), segment)
    for key, flag in flags.items():
        problems += _check_flag(("flags", key), flag, segment_names)
    problems += _check_prerequisites(flags, set(flags) | set(known_flags))
    return problems


def _check_segment(path: Path, segment: Segment) -> list[Problem]:
    problems: list[Problem] = []
    for r, rule in enumerate(segment.rules):
        for c, cond in enumerate(rule.when):
            where = (*path, "rules", r, "when", c)
            if cond.op == "in_segment":
                problems.append(Problem((*where, "op"), "a segment cannot refer to a segment"))
            else:
                problems += _check_condition(where, cond, set())
    return problems


def _check_flag(path: Path, flag: Flag, segment_names: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not encodes_as_utf8(str(path[-1])):
        problems.append(Problem(path, "the flag key is not valid Unicode (a lone surrogate)"))
    variants = flag.variants
    types = {value_type_of(v) for v in variants.values()}
    if len(types - {"int", "float"}) + (1 if types & {"int", "float"} else 0) > 1:
        shown = ", ".join(f"{name}: {value_type_of(v)}" for name, v in variants.items())
        problems.append(Problem((*path, "variants"), f"variant values differ in type ({shown})"))
    if flag.off_variant is not None and flag.off_variant not in variants:
        problems.append(_unknown_variant((*path, "off_variant"), flag.off_variant, variants))
    for i, rule in enumerate(flag.rules):
        for c, cond in enumerate(rule.when):
            problems += _check_condition((*path, "rules", i, "when", c), cond, segment_names)
        problems += _check_serve((*path, "rules", i, "serve"), rule.serve, variants)
    problems += _check_serve((*path, "default"), flag.default, variants)
    guarded = [
        where
        for where, serve in [
            *(((*path, "rules", i, "serve"), rule.serve) for i, rule in enumerate(flag.rules)),
            ((*path, "default"), flag.default),
        ]
        if isinstance(serve, ServeRollout) and serve.rollout.guard is not None
    ]
    problems += [
        Problem((*where, "rollout", "guard"), "a flag may have one guarded rollout")
        for where in guarded[1:]
    ]
    return problems


def _unknown_variant(path: Path, name: str, variants: Mapping[str, Any]) -> Problem:
    return Problem(path, f"unknown variant {name!r} (variants: {', '.join(variants)})")


def _check_serve(path: Path, serve: Serve, variants: Mapping[str, Any]) -> list[Problem]:
    if isinstance(serve, str):
        return [] if serve in variants else [_unknown_variant(path, serve, variants)]
    if isinstance(serve, ServeVariant):
        if serve.variant in variants:
            return []
        return [_unknown_variant((*path, "variant"), serve.variant, variants)]
    assert isinstance(serve, ServeRollout)
    return _check_rollout((*path, "rollout"), serve.rollout, variants)


def _check_rollout(path: Path, rollout: Rollout, variants: Mapping[str, Any]) -> list[Problem]:
    problems = _check_weights((*path, "weights"), rollout.weights, variants)
    if not rollout.by:
        problems.append(Problem((*path, "by"), "the bucketing attribute must not be empty"))
    if rollout.salt is not None and not encodes_as_utf8(rollout.salt):
        problems.append(
            Problem((*path, "salt"), "the salt is not valid Unicode (a lone surrogate)")
        )
    previous: float | None = None
    for s, step in enumerate(rollout.schedule):
        where = (*path, "schedule", s)
        if step.at.tzinfo is None:
            problems.append(Problem((*where, "at"), "a step time needs a time zone (e.g. Z)"))
            continue
        stamp = step.at.timestamp()
        if previous is not None and stamp <= previous:
            problems.append(Problem((*where, "at"), "steps must be in increasing time order"))
        previous = stamp
        problems += _check_weights((*where, "weights"), step.weights, variants)
    if rollout.guard is not None:
        problems += _check_guard((*path, "guard"), rollout.guard, rollout, variants)
    return problems


def _check_guard(
    path: Path, guard: Guard, rollout: Rollout, variants: Mapping[str, Any]
) -> list[Problem]:
    """Check a guard: a control in the rollout, something to compare, coherent metrics."""
    problems: list[Problem] = []
    served = set(rollout.weights).union(*(step.weights for step in rollout.schedule))
    if guard.control not in variants:
        problems.append(_unknown_variant((*path, "control"), guard.control, variants))
    elif guard.control not in served:
        problems.append(
            Problem((*path, "control"), f"the control {guard.control!r} is not in the rollout")
        )
    elif not served - {guard.control}:
        problems.append(Problem((*path, "control"), "the rollout has no variant to compare"))
    for m, metric in enumerate(guard.metrics):
        where = (*path, "metrics", m)
        is_event = metric.metric in ("event_rate", "event_mean")
        if is_event and metric.event is None:
            problems.append(Problem((*where, "event"), f"{metric.metric} needs an 'event'"))
        if is_event and metric.worse is None:
            problems.append(
                Problem((*where, "worse"), f"{metric.metric} needs 'worse': higher or lower")
            )
        if not is_event and metric.event is not None:
            problems.append(Problem((*where, "event"), f"{metric.metric} takes no 'event'"))
        if metric.metric != "latency" and metric.quantile is not None:
            problems.append(Problem((*where, "quantile"), "only latency takes a 'quantile'"))
        if metric.metric in ("error_rate", "latency") and metric.effect >= 1:
            problems.append(Problem((*where, "effect"), "a difference of shares must be below 1"))
    return problems


def _check_weights(
    path: Path, weights: Mapping[str, float], variants: Mapping[str, Any]
) -> list[Problem]:
    problems = [
        _unknown_variant((*path, name), name, variants) for name in weights if name not in variants
    ]
    scaled = rollouts.hundredths(weights)
    if scaled is None:
        problems.append(Problem(path, "weights allow at most two decimals (0.01%)"))
    elif sum(scaled.values()) != 10_000:
        total = Decimal(sum(scaled.values())) / 100
        problems.append(Problem(path, f"weights add up to {total}, not 100"))
    return problems


def _check_condition(path: Path, cond: Condition, segment_names: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    op = cond.op
    operands = cond.operands()
    if cond.value is not None and cond.values is not None:
        problems.append(Problem(path, "give either 'value' or 'values', not both"))
    if op == "in_segment":
        if not operands:
            problems.append(Problem((*path, "values"), "in_segment needs segment names"))
        for name in operands:
            if name not in segment_names:
                known = ", ".join(sorted(segment_names)) or "none"
                problems.append(
                    Problem((*path, "values"), f"unknown segment {name!r} (segments: {known})")
                )
        return problems
    if cond.attribute is None or not cond.attribute:
        problems.append(Problem((*path, "attribute"), f"{op} needs an attribute"))
    if op == "exists":
        return problems
    field = "values" if cond.values is not None else "value"
    if not operands:
        problems.append(Problem((*path, field), f"{op} needs a 'value' or 'values'"))
    for operand in operands:
        problem = _check_operand(op, operand)
        if problem:
            problems.append(Problem((*path, field), problem))
    return problems


def _check_operand(op: str, operand: Any) -> str | None:
    if op in _NUMERIC and (isinstance(operand, bool) or not isinstance(operand, int | float)):
        return f"{op} needs a number, got {operand!r}"
    if op in _STRING and not isinstance(operand, str):
        return f"{op} needs a string, got {operand!r}"
    if op == "matches":
        from flagkit._core.conditions import safe_pattern

        try:
            safe_pattern(operand)
        except UnsafePatternError as exc:
            return f"pattern {operand!r} refused: {exc}"
    if op in _SEMVER and (not isinstance(operand, str) or parse_version(operand) is None):
        return f"{operand!r} is not a semantic version"
    if op in _INSTANT and (isinstance(operand, bool) or timestamp_of(operand) is None):
        return f"{operand!r} is not an ISO 8601 date-time or a POSIX timestamp"
    return None


def _check_prerequisites(flags: Mapping[str, Flag], known: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    for key, flag in flags.items():
        for i, pre in enumerate(flag.prerequisites):
            path: Path = ("flags", key, "prerequisites", i)
            if pre.flag not in known:
                problems.append(Problem((*path, "flag"), f"unknown flag {pre.flag!r}"))
                continue
            target = flags.get(pre.flag)
            if target is None:
                continue
            for name in pre.variants:
                if name not in target.variants:
                    problems.append(
                        Problem(
                            (*path, "variants"),
                            f"flag {pre.flag!r} has no variant {name!r} "
                            f"(variants: {', '.join(target.variants)})",
                        )
                    )
    problems += _find_cycles(flags)
    return problems


def _find_cycles(flags: Mapping[str, Flag]) -> list[Problem]:
    """Report each prerequisite cycle once, at the flag that closes it."""
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in flags:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(_deps(flags, root)))]
        path = [root]
        state[root] = 1
        while stack:
            node, deps = stack[-1]
            nxt = next(deps, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                problems.append(
                    Problem(
                        ("flags", node, "prerequisites"),
                        "prerequisite cycle: " + " -> ".join(cycle),
                    )
                )
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(_deps(flags, nxt))))
    return problems


def _deps(flags: Mapping[str, Flag], key: str) -> list[str]:
    flag = flags.get(key)
    return [] if flag is None else [p.flag for p in flag.prerequisites if p.flag in flags]
