"""``flagkit lint``: findings about a valid flag file that validation does not refuse.

Every finding has a stable code, a severity and a location (file, flag,
field path). The codes are documented in ``docs/cli.md``:

* FK101 error: the flag's ``expires`` date has passed.
* FK102 warning: the flag expires within ``--expiry-warning-days``.
* FK201 warning: a rule can never match: an earlier rule matches every context it does.
* FK301 warning: a segment no flag uses.
* FK302 info: a variant nothing serves (no rule, default, off_variant or rollout weight).
* FK303 warning: a rollout that serves one variant to everybody (from now on).
* FK304 info: a disabled flag without ``off_variant`` (callers get their own default).
* FK401 warning: a flag key that no file under ``--code DIR`` mentions as a string literal.
* FK402 error: a ``flagkit.Flag`` declared under ``--code DIR`` that the file lacks.
* FK403 warning: a flag that no ``flagkit.Flag`` under ``--code DIR`` declares (only
  reported when the code declares flags at all).

With ``--format flagd`` or ``unleash`` the findings come from the compiled
plans instead (``plan_lint``: FK201, FK303, FK304 and FK501), and FK401-FK403.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from flagkit._cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_WARNINGS,
    add_format_option,
    load_document,
    load_snapshot,
    usage_error,
)
from flagkit._cli.output import colour_enabled, print_json, render_table
from flagkit._core import rollouts
from flagkit._definitions.model import Condition, Document, Flag, Rollout, Rule, Serve, ServeRollout
from flagkit.testing._declarations import check_declared_flags

__all__ = ["Finding", "find_unreferenced", "lint_document", "register"]

Severity = Literal["error", "warning", "info"]
_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "error": 2}
_STYLE: dict[str, str] = {"info": "dim", "warning": "yellow", "error": "red"}

#: Files larger than this are not searched for flag keys (generated or data files).
MAX_CODE_FILE_BYTES = 1024 * 1024
_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox", ".mypy_cache"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding and where it is."""

    code: str
    severity: Severity
    file: str
    flag: str | None
    path: str
    message: str


def register(commands: Any) -> None:
    """Add the lint sub-command."""
    parser = commands.add_parser("lint", help="find stale, unreachable and unused definitions")
    parser.add_argument("file", metavar="FILE", help="the flag file to lint")
    parser.add_argument("--today", metavar="DATE", help="the date to check expiry against")
    parser.add_argument(
        "--expiry-warning-days",
        type=int,
        default=14,
        metavar="N",
        help="warn about flags expiring within N days (default 14)",
    )
    parser.add_argument(
        "--code",
        metavar="DIR",
        help="report flags no file under DIR mentions, and flagkit.Flag declarations "
        "that do not match the file",
    )
    parser.add_argument(
        "--strict", action="store_true", help=f"exit {EXIT_WARNINGS} when there are warnings"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_format_option(parser, syntax=False)
    parser.set_defaults(handler=_lint)


def _lint(args: argparse.Namespace) -> int:
    if args.today is None:
        today = dt.datetime.now(dt.UTC).date()
        now = time.time()
    else:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError as exc:
            raise usage_error(f"--today expects a date YYYY-MM-DD, got {args.today!r}") from exc
        now = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp()
    if args.code is not None and not os.path.isdir(args.code):
        raise usage_error(f"--code expects a directory, got {args.code!r}")
    if args.format == "native":
        document = load_document(args.file)
        keys = list(document.flags)
        findings = lint_document(
            document, file=args.file, today=today, now=now, expiry_days=args.expiry_warning_days
        )
    else:  # foreign formats: what their compiled plans show
        from flagkit._cli.plan_lint import lint_snapshot

        snapshot = load_snapshot(args.file, args.format, clock=lambda: now)
        keys = list(snapshot.flags)
        findings = lint_snapshot(snapshot, file=args.file, now=now)
    if args.code is not None:
        findings += find_unreferenced(keys, file=args.file, code_dir=Path(args.code))
        findings += find_undeclared(keys, file=args.file, code_dir=Path(args.code))
    worst = max((_RANK[f.severity] for f in findings), default=-1)
    if args.json:
        print_json([asdict(f) for f in findings], sys.stdout)
    else:
        _print_findings(args.file, findings)
    if worst == _RANK["error"]:
        return EXIT_INVALID
    if worst == _RANK["warning"] and args.strict:
        return EXIT_WARNINGS
    return EXIT_OK


def _print_findings(file: str, findings: Sequence[Finding]) -> None:
    if not findings:
        print(f"{file}: no findings")
        return
    colour = colour_enabled(sys.stdout)
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    rows = [[f.severity, f.code, f.path, f.message] for f in findings]
    sys.stdout.write(f"{file}: {summary}\n\n")
    table = render_table(
        ["severity", "code", "where", "message"], rows, colour=colour, style_of=_STYLE.get
    )
    sys.stdout.write(table)


def lint_document(
    document: Document, *, file: str, today: dt.date, now: float, expiry_days: int = 14
) -> list[Finding]:
    """Return every finding about ``document`` (except FK401, which needs a code tree)."""
    findings: list[Finding] = []
    for key, flag in document.flags.items():
        here = f"flags.{key}"

        def found(code: str, severity: Severity, path: str, message: str, key: str = key) -> None:
            findings.append(Finding(code, severity, file, key, path, message))

        if flag.expires is not None:
            if flag.expires < today:
                found("FK101", "error", f"{here}.expires", f"expired on {flag.expires}")
            elif (flag.expires - today).days <= expiry_days:
                days = (flag.expires - today).days
                found("FK102", "warning", f"{here}.expires", f"expires in {days} days")
        for later, earlier in _shadowed_rules(flag.rules):
            found(
                "FK201",
                "warning",
                f"{here}.rules[{later}]",
                f"can never match: rule {_rule_name(flag.rules, earlier)} matches every "
                "context it matches",
            )
        for path, rollout in _rollouts(flag, here):
            only = _stuck_variant(rollout, now)
            if only is not None:
                found(
                    "FK303",
                    "warning",
                    path,
                    f"serves {only!r} to 100% of users: could be a fixed variant",
                )
        used = _served_variants(flag) | _required_variants(document, key)
        for variant in flag.variants:
            if variant not in used:
                # Info, not a warning: a blue-green flag keeps its idle colour on purpose.
                found("FK302", "info", f"{here}.variants.{variant}", "never served")
        if not flag.enabled and flag.off_variant is None:
            found(
                "FK304",
                "info",
                f"{here}.off_variant",
                "disabled without off_variant: callers get their own default",
            )
    used_segments = {
        str(name)
        for flag in document.flags.values()
        for rule in flag.rules
        for condition in rule.when
        if condition.op == "in_segment"
        for name in condition.operands()
    }
    findings += [
        Finding("FK301", "warning", file, None, f"segments.{name}", "no flag uses this segment")
        for name in document.segments
        if name not in used_segments
    ]
    return findings


def _rule_name(rules: Sequence[Rule], index: int) -> str:
    return rules[index].name or f"rules[{index}]"


# -- unreachable rules -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Test:
    """A condition normalised to what it tests: ``equals`` is ``in`` with one operand."""

    attribute: str
    op: str
    operands: frozenset[tuple[str, Any]]
    negated: bool


_NEGATED_OPS = {"not_equals": "in", "not_in": "in", "equals": "in"}


def _normalise(condition: Condition) -> _Test:
    op = _NEGATED_OPS.get(condition.op, condition.op)
    # As compiled: not_equals / not_in are in negated, and ``negate`` flips that again.
    negated = condition.negate != (condition.op in ("not_equals", "not_in"))
    attribute = "" if op == "in_segment" else condition.attribute or "targetingKey"
    # Typed operands, so that 1 and True (equal in Python) stay apart as they do in match_in.
    operands = frozenset((type(o).__name__, o) for o in condition.operands())
    return _Test(attribute, op, operands, negated)


def _implies(held: _Test, then: _Test) -> bool:
    """Return True when ``held`` holding guarantees that ``then`` holds (simple cases only)."""
    if held == then:
        return True
    if held.attribute != then.attribute or held.op == "in_segment":
        return False
    if then.op == "exists" and not then.negated:
        # Every other test of an attribute fails on a missing or null value.
        return not (held.op == "exists" and held.negated)
    # Without negation every operator holds when any operand does: fewer operands, fewer matches.
    return (
        held.op == then.op
        and not held.negated
        and not then.negated
        and held.operands <= then.operands
    )


def _segment_implies(held: _Test, then: _Test) -> bool:
    return (
        held.op == then.op == "in_segment"
        and not held.negated
        and not then.negated
        and held.operands <= then.operands
    )


def _shadowed_rules(rules: Sequence[Rule]) -> Iterator[tuple[int, int]]:
    """Yield (later, earlier) where rule ``earlier`` matches every context ``later`` does."""
    tests = [[_normalise(c) for c in rule.when] for rule in rules]
    for later, conditions in enumerate(tests):
        for earlier in range(later):
            if all(
                any(_implies(h, t) or _segment_implies(h, t) for h in conditions)
                for t in tests[earlier]
            ):
                yield later, earlier
                break


# -- variants and rollouts ---------------------------------------------------------------


def _rollouts(flag: Flag, here: str) -> Iterator[tuple[str, Rollout]]:
    serves: list[tuple[str, Serve]] = [
        (f"{here}.rules[{i}].serve", rule.serve) for i, rule in enumerate(flag.rules)
    ]
    serves.append((f"{here}.default", flag.default))
    for path, serve in serves:
        if isinstance(serve, ServeRollout):
            yield f"{path}.rollout", serve.rollout


def _weight_tables(rollout: Rollout) -> list[Mapping[str, float]]:
    return [rollout.weights, *(step.weights for step in rollout.schedule)]


def _stuck_variant(rollout: Rollout, now: float) -> str | None:
    """Return the one variant a rollout serves from ``now`` on, or None if it splits."""
    past = rollouts.step_index([step.at.timestamp() for step in rollout.schedule], now)
    winners = {
        variant
        for weights in _weight_tables(rollout)[past:]
        for variant, weight in weights.items()
        if weight > 0
    }
    return winners.pop() if len(winners) == 1 else None


def _served_variants(flag: Flag) -> set[str]:
    served = {flag.off_variant} if flag.off_variant is not None else set()
    for serve in [flag.default, *(rule.serve for rule in flag.rules)]:
        if isinstance(serve, ServeRollout):
            served |= {
                variant
                for weights in _weight_tables(serve.rollout)
                for variant, weight in weights.items()
                if weight > 0
            }
        else:
            served.add(serve if isinstance(serve, str) else serve.variant)
    return served


def _required_variants(document: Document, key: str) -> set[str]:
    """Return the variants of ``key`` that other flags name in their prerequisites."""
    return {
        variant
        for flag in document.flags.values()
        for prerequisite in flag.prerequisites
        if prerequisite.flag == key
        for variant in prerequisite.variants
    }


# -- flags the code never mentions ----------------------------------------------------------


def _code_files(root: Path, skip: Path | None) -> Iterator[str]:
    """Yield the text of each searchable file under ``root`` (not binary, not huge, not .git)."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(directory, name)
            try:
                if path.is_symlink() or path.stat().st_size > MAX_CODE_FILE_BYTES:
                    continue
                if skip is not None and path.resolve() == skip:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if b"\0" in data[:8192]:
                continue
            yield data.decode("utf-8", errors="replace")


def find_unreferenced(keys: Iterable[str], *, file: str, code_dir: Path) -> list[Finding]:
    """Return FK401 for each flag whose key no file under ``code_dir`` quotes.

    A reference is the key as a string literal: in double, single or back quotes.
    The flag file itself does not count.
    """
    missing = {key: (f'"{key}"', f"'{key}'", f"`{key}`") for key in keys}
    for text in _code_files(code_dir, Path(file).resolve()):
        missing = {
            key: quoted
            for key, quoted in missing.items()
            if not any(literal in text for literal in quoted)
        }
        if not missing:
            break
    return [
        Finding(
            "FK401",
            "warning",
            file,
            key,
            f"flags.{key}",
            f"no file under {code_dir} mentions {key!r}",
        )
        for key in missing
    ]


def find_undeclared(keys: Sequence[str], *, file: str, code_dir: Path) -> list[Finding]:
    """Return FK402 for declared flags the file lacks, FK403 for flags nothing declares."""
    check = check_declared_flags(keys, code_dir)
    findings = [
        Finding(
            "FK402",
            "error",
            file,
            d.key,
            f"flags.{d.key}",
            f"{d} declares flag {d.key!r}, which the file lacks (the code gets its default)",
        )
        for d in check.missing
    ]
    findings += [
        Finding(
            "FK403",
            "warning",
            file,
            key,
            f"flags.{key}",
            f"no flagkit.Flag under {code_dir} declares {key!r}",
        )
        for key in check.undeclared
    ]
    return findings
