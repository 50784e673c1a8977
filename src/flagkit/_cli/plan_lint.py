"""``flagkit lint`` for foreign formats: findings read from compiled plans.

A flagd or Unleash document has no native definitions to inspect, but
every format compiles to plans (``flagkit._core.plan``), and the plan says
what evaluation does. These findings keep the native codes where they
mean the same thing:

* FK201 warning: a rule can never match (an earlier rule holds for every context);
* FK303 warning: a rollout serves one variant to everybody (from now on);
* FK304 info: a disabled flag (its off outcome is served to everybody);
* FK501 error: a flag that failed to compile (it resolves to an error for everybody).
"""

from __future__ import annotations

from flagkit._cli.lint import Finding
from flagkit._core.details import Reason
from flagkit._core.plan import Ramp, Split
from flagkit._core.snapshot import CompiledFlag, Snapshot

__all__ = ["lint_snapshot"]


def lint_snapshot(snapshot: Snapshot, *, file: str, now: float) -> list[Finding]:
    """Return the plan findings of every flag of ``snapshot``."""
    findings: list[Finding] = []
    for key, flag in snapshot.flags.items():
        findings.extend(_flag_findings(key, flag, file, now))
    return findings


def _flag_findings(key: str, flag: CompiledFlag, file: str, now: float) -> list[Finding]:
    plan = flag.plan
    where = f"flags.{key}"
    constant = plan.constant
    if constant is not None and constant[0].reason is Reason.ERROR:
        message = constant[0].error_message or "the flag cannot be evaluated"
        return [Finding("FK501", "error", file, key, where, message)]
    if plan.disabled is not None:
        return [Finding("FK304", "info", file, key, where, "the flag is disabled")]
    found: list[Finding] = []
    for index, rule in enumerate(plan.rules):
        if not rule.checks and index + 1 < len(plan.rules):
            later = ", ".join(r.name for r in plan.rules[index + 1 :])
            message = f"{rule.name} holds for every context, so {later} can never match"
            found.append(Finding("FK201", "warning", file, key, f"{where}.{later}", message))
            break
    for name, serve in plan.serves():
        split = serve.steps[serve.step_at(now)] if isinstance(serve, Ramp) else serve
        if isinstance(split, Split) and sum(1 for _, w in split.weights if w > 0) == 1:
            variant = next(r.variant for r, w in split.weights if w > 0)
            message = f"the rollout serves {variant!r} to everybody"
            found.append(Finding("FK303", "warning", file, key, f"{where}.{name}", message))
    return found
