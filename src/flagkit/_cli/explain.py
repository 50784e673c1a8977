"""Render an explanation (``flagkit._core.explain``) as the lines ``eval --explain`` prints.

The trace itself comes from the core, which walks the flag's compiled
plan; this module only turns it into text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flagkit._cli.output import to_json
from flagkit._core.explain import ConditionStep, Explanation, RolloutStep, VariantRange

__all__ = ["format_ranges", "render_explanation"]


def _show(value: Any) -> str:
    return to_json(value)


def format_ranges(ranges: Sequence[VariantRange]) -> str:
    """Return ranges as ``on: [0, 1000)  off: [1000, 10000)``."""
    return "  ".join(f"{r.variant}: [{r.start}, {r.end})" for r in ranges)


def _weights(weights: Mapping[str | None, float]) -> str:
    return ", ".join(f"{variant} {weight:g}%" for variant, weight in weights.items())


def render_explanation(explanation: Explanation, indent: str = "") -> str:
    """Return the trace as indented, human-readable lines."""
    e = explanation
    lines: list[str] = []
    outcome = f"variant {e.variant or '-'}, value {_show(e.value)}, reason {e.reason}"
    if e.error_code is not None:
        outcome += f", error {e.error_code}: {e.error_message}"
    lines.append(f"{indent}flag {e.flag}: {outcome}")
    if not e.found:
        return "\n".join(lines) + "\n"
    inner = indent + "  "
    if not e.enabled:
        lines.append(f"{inner}disabled: serves off_variant {e.variant or '(caller default)'}")
    for p in e.prerequisites:
        verdict = "passed" if p.passed else "FAILED"
        lines.append(
            f"{inner}prerequisite {p.flag} must serve {' or '.join(p.variants)}: "
            f"{verdict} (served {p.explanation.variant or '-'})"
        )
        lines.append(render_explanation(p.explanation, inner + "  ").rstrip("\n"))
    if e.decided_by == "prerequisite":
        lines.append(f"{inner}serves off_variant {e.variant or '(caller default)'}")
    for rule in e.rules:
        lines.append(f"{inner}rule {rule.name}: {'MATCH' if rule.matched else 'no match'}")
        lines.extend(f"{inner}  {_condition_line(c)}" for c in rule.conditions)
    if e.decided_by not in ("disabled", "prerequisite"):
        source = "default" if e.decided_by == "default" else f"rule {e.decided_by}"
        if e.targeting is not None:
            lines.append(f"{inner}{source}: {e.targeting} serves {e.variant or '-'}")
        elif e.rollout is None:
            lines.append(f"{inner}{source} serves {e.variant}")
        else:
            lines.extend(_rollout_lines(source, e.rollout, inner))
    return "\n".join(lines) + "\n"


def _condition_line(c: ConditionStep) -> str:
    mark = "ok  " if c.matched else "FAIL"
    expected = c.expected[0] if len(c.expected) == 1 else c.expected
    negate = "not " if c.negate else ""
    if c.op == "in_segment":
        actual = f"member of {_show(c.actual)}"
        return f"{mark} {negate}in_segment {_show(expected)}: {actual}"
    actual = _show(c.actual) if c.present else "(missing)"
    attribute = c.attribute or "targetingKey"
    return f"{mark} {attribute} {negate}{c.op} {_show(expected)}: actual {actual}"


def _rollout_lines(source: str, r: RolloutStep, indent: str) -> list[str]:
    value = _show(r.value) if r.value is not None else "(missing)"
    bucket = "none (not a string or integer)" if r.bucket is None else f"{r.bucket} of {r.total}"
    lines = [
        f"{indent}{source} serves a rollout by {r.by} = {value}, salt {_show(r.salt)}",
        f"{indent}  bucket: {bucket}",
        f"{indent}  ranges: {format_ranges(r.ranges)}",
    ]
    if r.current_step is not None:
        since = "the rollout's own weights" if r.current_step.at is None else r.current_step.at
        lines.append(f"{indent}  schedule: now step {r.current_step.step} (since {since})")
        if r.next_step is None:
            lines.append(f"{indent}  next: none, this is the last step")
        else:
            lines.append(
                f"{indent}  next: step {r.next_step.step} at {r.next_step.at}: "
                f"{_weights(r.next_step.weights)}"
            )
    return lines
