"""Cross-reference checks on a structurally valid document.

Pydantic checks each field's shape; this module checks what only the whole
document can tell: that variants, segments and prerequisites exist, that
weights add up, that patterns and versions parse, and that prerequisites do
not form a cycle. Every problem is collected; nothing stops at the first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from flagkit._core import rollouts
from flagkit._core.bucketing import encodes_as_utf8
from flagkit._core.safe_regex import UnsafePatternError
from flagkit._core.semver import parse_version
from flagkit._core.timeutil import timestamp_of
from flagkit._definitions.limits import MAX_OPERANDS
from flagkit._definitions.vocabulary import check_variant_value
from flagkit._errors import Problem

__all__ = ["DocumentChecker", "check_document", "value_type_of", "variants_type"]

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
    flags: Mapping[str, Any],
    segments: Mapping[str, Any],
    *,
    known_flags: Iterable[str] = (),
    known_segments: Iterable[str] = (),
) -> list[Problem]:
    """Return every cross-reference problem in the document.

    ``known_flags`` / ``known_segments`` name entries that exist but failed
    structural validation: references to them are not reported again.
    """
    checker = DocumentChecker(segments, known_segments=known_segments)
    for key, flag in flags.items():
        checker.check_flag(key, flag)
    return checker.finish(known_flags=known_flags)


class DocumentChecker:
    """The cross-checks of one document, a flag at a time, then across flags.

    A load checks each flag as it decodes it (``check_flag``) and drops the
    definition; only what the checks across flags need is kept: each flag's
    variant names (a prerequisite names them) and the prerequisites of the
    flags that have any. ``finish`` then checks prerequisites and cycles.
    The definitions may be the pydantic models or the C-decoded shapes
    (``shapes``): the checks read the fields both share.
    """

    def __init__(self, segments: Mapping[str, Any], *, known_segments: Iterable[str] = ()) -> None:
        self.problems: list[Problem] = []
        self.segment_names = set(segments) | set(known_segments)
        self._variants: dict[str, Collection[str]] = {}
        self._prerequisites: dict[str, list[Any]] = {}
        #: The flags with a guarded rollout (found without compiling anything).
        self.guarded: list[str] = []
        for name, segment in segments.items():
            self.problems += _check_segment(("segments", name), segment)

    def check_flag(self, key: str, flag: Any) -> str:
        """Check one flag, keeping its problems in ``problems``; return its value type.

        The common shape (boolean or string variants, rules of plain string
        conditions, variant-name serves) is proven fine inline, on the hot
        path of loading; anything else, or any doubt, gets the full checks.
        """
        variants = flag.variants
        kind = _PLAIN_TYPES.get(frozenset(map(type, variants.values())))
        plain = kind is not None and key.isascii()
        if plain and flag.off_variant is not None:
            plain = flag.off_variant in variants
        if plain:
            for rule in flag.rules:
                serve = rule.serve
                if type(serve) is not str or serve not in variants:
                    plain = False
                    break
                for cond in rule.when:
                    values = cond.values
                    if (
                        cond.op not in _PLAIN_OPS
                        or not cond.attribute
                        or (cond.value is None) == (values is None)
                        or values == []
                        or (values is not None and len(values) > MAX_OPERANDS)
                    ):
                        plain = False
                        break
                if not plain:
                    break
            else:
                serve = flag.default
                plain = type(serve) is str and serve in variants
        if not plain:  # a plain flag serves variant names only: no rollout, no guard
            found = _check_flag(key, flag, self.segment_names)
            if found:
                self.problems += found
            if any(
                _guard_of(s) is not None for s in (flag.default, *(r.serve for r in flag.rules))
            ):
                self.guarded.append(key)
            if kind is None:
                kind = variants_type(variants) if not found else "object"
        self._variants[key] = variants
        if flag.prerequisites:
            self._prerequisites[key] = flag.prerequisites
        return kind or "object"  # (always set above: plain flags have a kind, others got one)

    def finish(self, *, known_flags: Iterable[str] = ()) -> list[Problem]:
        """Check prerequisites across flags; return every problem found."""
        if self._prerequisites:
            self.problems += _check_prerequisites(
                self._prerequisites, self._variants, set(self._variants) | set(known_flags)
            )
        return self.problems


def _check_segment(path: Path, segment: Any) -> list[Problem]:
    problems: list[Problem] = [
        Problem((*path, field), f"more than {MAX_OPERANDS:,} keys; refused (see Limits)")
        for field in ("include", "exclude")
        if len(getattr(segment, field)) > MAX_OPERANDS
    ]
    for r, rule in enumerate(segment.rules):
        for c, cond in enumerate(rule.when):
            where = (*path, "rules", r, "when", c)
            if cond.op == "in_segment":
                problems.append(Problem((*where, "op"), "a segment cannot refer to a segment"))
            else:
                found = _check_condition(cond, set())
                problems += [Problem((*where, *field), message) for field, message in found]
    return problems


def _check_flag(key: str, flag: Any, segment_names: set[str]) -> list[Problem]:
    path: Path = ("flags", key)
    problems: list[Problem] = []
    if not key.isascii() and not encodes_as_utf8(key):
        problems.append(Problem(path, "the flag key is not valid Unicode (a lone surrogate)"))
    variants = flag.variants
    if _variant_types(variants) is None:
        problems += _variant_problems(path, variants)
    if flag.off_variant is not None and flag.off_variant not in variants:
        problems.append(_unknown_variant((*path, "off_variant"), flag.off_variant, variants))
    for i, rule in enumerate(flag.rules):
        for c, cond in enumerate(rule.when):
            found = _check_condition(cond, segment_names)
            if found:
                where = (*path, "rules", i, "when", c)
                problems += [Problem((*where, *field), message) for field, message in found]
        problems += _check_serve((*path, "rules", i, "serve"), rule.serve, variants)
    problems += _check_serve((*path, "default"), flag.default, variants)
    guarded = [
        where
        for where, serve in [
            *(((*path, "rules", i, "serve"), rule.serve) for i, rule in enumerate(flag.rules)),
            ((*path, "default"), flag.default),
        ]
        if _guard_of(serve) is not None
    ]
    problems += [
        Problem((*where, "rollout", "guard"), "a flag may have one guarded rollout")
        for where in guarded[1:]
    ]
    return problems


def _guard_of(serve: Any) -> Any:
    """Return a serve's rollout guard (model or shape), or None."""
    rollout = None if type(serve) is str else getattr(serve, "rollout", None)
    return None if rollout is None else rollout.guard


_PLAIN_TYPES = {frozenset({bool}): "bool", frozenset({str}): "str"}


def _variant_types(variants: Mapping[str, Any]) -> str | None:
    """Return the one value type of boolean or string variants, None for anything else."""
    return _PLAIN_TYPES.get(frozenset(map(type, variants.values())))


def variants_type(variants: Mapping[str, Any]) -> str:
    """Return the value type of a flag's checked variants: bool, str, int, float or object.

    Integers and floats together make a float flag.
    """
    kind = _variant_types(variants)
    if kind is not None:
        return kind
    types = {value_type_of(v) for v in variants.values()}
    return "float" if types == {"int", "float"} else types.pop()


def _variant_problems(path: Path, variants: Mapping[str, Any]) -> list[Problem]:
    """Check variant values (bounded, JSON) and that they share one type."""
    problems: list[Problem] = []
    for name, value in variants.items():
        try:
            check_variant_value(value)
        except ValueError as exc:
            problems.append(Problem((*path, "variants", name), str(exc)))
    if problems:
        return problems
    types = {value_type_of(v) for v in variants.values()}
    if len(types - {"int", "float"}) + (1 if types & {"int", "float"} else 0) > 1:
        shown = ", ".join(f"{name}: {value_type_of(v)}" for name, v in variants.items())
        problems.append(Problem((*path, "variants"), f"variant values differ in type ({shown})"))
    return problems


def _unknown_variant(path: Path, name: str, variants: Mapping[str, Any]) -> Problem:
    return Problem(path, f"unknown variant {name!r} (variants: {', '.join(variants)})")


def _check_serve(path: Path, serve: Any, variants: Mapping[str, Any]) -> list[Problem]:
    if type(serve) is str:
        return [] if serve in variants else [_unknown_variant(path, serve, variants)]
    # A model is ServeVariant or ServeRollout; a shape (``shapes.ServeObject``) has both fields.
    variant = getattr(serve, "variant", None)
    rollout = getattr(serve, "rollout", None)
    if (variant is None) == (rollout is None):
        return [Problem(path, "give exactly one of 'variant' or 'rollout'")]
    if variant is not None:
        if variant in variants:
            return []
        return [_unknown_variant((*path, "variant"), variant, variants)]
    return _check_rollout((*path, "rollout"), rollout, variants)


def _check_rollout(path: Path, rollout: Any, variants: Mapping[str, Any]) -> list[Problem]:
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
    path: Path, guard: Any, rollout: Any, variants: Mapping[str, Any]
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


#: Operators whose operands need no check beyond their shape.
_PLAIN_OPS = frozenset({"equals", "not_equals", "in", "not_in", "contains"})


def _check_condition(cond: Any, segment_names: set[str]) -> list[tuple[tuple[str, ...], str]]:
    """Return a condition's problems as (field, message) pairs (usually none)."""
    op = cond.op
    value, values = cond.value, cond.values
    many = values is not None and len(values) > MAX_OPERANDS
    plain = op in _PLAIN_OPS and cond.attribute and (value is None) != (values is None)
    if plain and values != [] and not many:
        return []
    problems: list[tuple[tuple[str, ...], str]] = []
    if many:
        return [(("values",), f"more than {MAX_OPERANDS:,} operands; refused (see Limits)")]
    operands = cond.operands()
    if value is not None and values is not None:
        problems.append(((), "give either 'value' or 'values', not both"))
    if op == "in_segment":
        if not operands:
            problems.append((("values",), "in_segment needs segment names"))
        for name in operands:
            if name not in segment_names:
                known = ", ".join(sorted(segment_names)) or "none"
                problems.append((("values",), f"unknown segment {name!r} (segments: {known})"))
        return problems
    if cond.attribute is None or not cond.attribute:
        problems.append((("attribute",), f"{op} needs an attribute"))
    if op == "exists":
        return problems
    field = "values" if values is not None else "value"
    if not operands:
        problems.append(((field,), f"{op} needs a 'value' or 'values'"))
    for operand in operands:
        problem = _check_operand(op, operand)
        if problem:
            problems.append(((field,), problem))
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


def _check_prerequisites(
    prerequisites: Mapping[str, list[Any]],
    variants: Mapping[str, Collection[str]],
    known: set[str],
) -> list[Problem]:
    problems: list[Problem] = []
    for key, listed in prerequisites.items():
        for i, pre in enumerate(listed):
            path: Path = ("flags", key, "prerequisites", i)
            if pre.flag not in known:
                problems.append(Problem((*path, "flag"), f"unknown flag {pre.flag!r}"))
                continue
            target = variants.get(pre.flag)
            if target is None:
                continue
            for name in pre.variants:
                if name not in target:
                    problems.append(
                        Problem(
                            (*path, "variants"),
                            f"flag {pre.flag!r} has no variant {name!r} "
                            f"(variants: {', '.join(target)})",
                        )
                    )
    problems += _find_cycles(prerequisites, variants)
    return problems


def _find_cycles(
    prerequisites: Mapping[str, list[Any]], flags: Mapping[str, object]
) -> list[Problem]:
    """Report each prerequisite cycle once, at the flag that closes it.

    Only flags with prerequisites can be on a cycle, so only they are walked.
    """

    def deps(key: str) -> list[str]:
        return [p.flag for p in prerequisites.get(key, ()) if p.flag in flags]

    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in prerequisites:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(deps(root)))]
        path = [root]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
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
                stack.append((nxt, iter(deps(nxt))))
    return problems
