"""eval --explain: a trace that names every step and agrees with evaluation."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from flagkit import Client
from flagkit._core.explain import explain
from flagkit._core.timeutil import timestamp_of
from flagkit._sources.pipeline import snapshot_from_file
from tests.cli.conftest import RunCli, WriteFlags, boolean_flag, rollout
from tests.conftest import EXAMPLE

RAMP_TIMES = [
    "2026-11-01T00:00:00Z",
    "2026-12-02T00:00:00Z",
    "2026-12-06T00:00:00Z",
    "2027-01-01T00:00:00Z",
]


def _contexts() -> list[dict[str, Any]]:
    keys = [f"user-{i}" for i in range(40)] + ["qa-1", "contractor-7", 7]
    extras: list[dict[str, Any]] = [
        {},
        {"country": "NL", "plan": "pro"},
        {"country": "BE", "plan": "free", "email": "x@example.com"},
        {"org": {"id": "acme"}},
        {"org": {"id": 42}, "email": "y@other.org"},
    ]
    return [{"targetingKey": k, **e} for k, e in itertools.product(keys, extras)] + [{}]


@pytest.mark.parametrize("at", RAMP_TIMES)
def test_trace_agrees_with_get_details(at: str) -> None:
    """For every example flag and many contexts, the trace ends where get_details does."""
    now = timestamp_of(at)
    assert now is not None
    client = Client(snapshot_from_file(EXAMPLE, clock=lambda: now, keep_definitions=True))
    expected, actual = [], []
    for flag in client.flag_keys():
        for ctx in _contexts():
            details = client.get_details(flag, None, ctx)
            trace = explain(client.snapshot, flag, ctx)
            bucket = None if trace.rollout is None else trace.rollout.bucket
            expected.append(
                (flag, details.variant, details.value, details.reason.value, details.bucket)
            )
            actual.append((flag, trace.variant, trace.value, trace.reason, bucket))
    assert expected == actual


REASONS = [
    ("api-backend", [], "reason STATIC", "default serves blue"),
    (
        "beta-banner",
        ["-c", "country=NL", "-c", "plan=pro"],
        "reason TARGETING_MATCH",
        "rule benelux-pro: MATCH",
    ),
    (
        "beta-banner",
        ["-c", "country=DE"],
        "reason DEFAULT",
        'FAIL country in ["NL", "BE"]: actual "DE"',
    ),
    (
        "checkout-canary",
        ["-k", "user-1"],
        "reason SPLIT",
        "ranges: on: [0, 1000)  off: [1000, 10000)",
    ),
    ("kill-switch", [], "reason DISABLED", "disabled: serves off_variant off"),
    (
        "checkout-theme",
        ["-k", "user-1"],
        "reason PREREQUISITE_FAILED",
        "prerequisite checkout-canary must serve on: FAILED",
    ),
    ("org-dashboard", ["-k", "u"], "error TARGETING_KEY_MISSING", "rollout by org.id = (missing)"),
    ("no-such-flag", [], "error FLAG_NOT_FOUND", "flag no-such-flag"),
]


@pytest.mark.parametrize(("flag", "options", "outcome", "step"), REASONS)
def test_explain_every_reason(
    cli: RunCli, flag: str, options: list[str], outcome: str, step: str
) -> None:
    """The text trace names the reason and the step that decided it."""
    code, out, _ = cli("eval", EXAMPLE, flag, "--explain", *options)
    error = "error" in outcome
    assert (code, outcome in out.splitlines()[0], step in out) == (3 if error else 0, True, True)


def test_explain_json_shows_actual_and_expected(cli: RunCli) -> None:
    """--explain --json lists each condition with the actual value next to the expected one."""
    code, out, _ = cli("eval", EXAMPLE, "beta-banner", "-c", "country=NL", "--explain", "--json")
    trace = json.loads(out)
    conditions = [
        (c["attribute"], c["expected"], c["present"], c["actual"], c["matched"])
        for c in trace["rules"][0]["conditions"]
    ]
    assert (code, trace["decided_by"], trace["variant"]) == (0, "default", "off")
    assert conditions == [
        ("country", ["NL", "BE"], True, "NL", True),
        ("plan", ["pro"], False, None, False),
    ]


def test_explain_ramp_shows_current_and_next_step(cli: RunCli) -> None:
    """A scheduled ramp's trace gives the step in force and the next one, with times."""
    _, out, _ = cli(
        "eval", EXAMPLE, "search-ramp", "-k", "u1", "--at", "2026-12-04T00:00:00Z", "--explain"
    )
    assert [line.strip() for line in out.splitlines()[-2:]] == [
        "schedule: now step 2 (since 2026-12-03T09:00:00Z)",
        "next: step 3 at 2026-12-05T09:00:00Z: on 50%, off 50%",
    ]


def test_explain_ramp_json_last_step(cli: RunCli) -> None:
    """After the last step the JSON trace has no next step."""
    _, out, _ = cli(
        "eval",
        EXAMPLE,
        "search-ramp",
        "-k",
        "u",
        "--at",
        "2027-01-01T00:00:00Z",
        "--explain",
        "--json",
    )
    rollout_step = json.loads(out)["rollout"]
    assert (rollout_step["current_step"]["step"], rollout_step["next_step"]) == (4, None)


def test_explain_segment_and_prerequisite_pass(cli: RunCli, write_flags: WriteFlags) -> None:
    """Segment membership and a passed prerequisite show in the trace."""
    path = write_flags(
        {
            "base": boolean_flag(default="on"),
            "gated": boolean_flag(
                prerequisites=[{"flag": "base", "variants": ["on"]}],
                rules=[{"when": [{"op": "in_segment", "values": ["vip"]}], "serve": rollout(50)}],
            ),
        },
        {"vip": {"include": ["u1"]}},
    )
    _, out, _ = cli("eval", path, "gated", "-k", "u1", "--explain")
    starts = ("prereq", "ok", "rule rules[0] serves")
    steps = [line.strip() for line in out.splitlines() if line.strip().startswith(starts)]
    assert steps == [
        "prerequisite base must serve on: passed (served on)",
        'ok   in_segment "vip": member of ["vip"]',
        'rule rules[0] serves a rollout by targetingKey = "u1", salt "gated"',
    ]


def test_explain_with_contexts_is_a_usage_error(cli: RunCli) -> None:
    """--explain with --contexts exits 2."""
    code, _, err = cli("eval", EXAMPLE, "beta-banner", "--explain", "--contexts", "x.jsonl")
    assert (code, "--explain" in err) == (2, True)


@pytest.mark.parametrize("key", ["100000000000000000000000", "\udcff"])
def test_explain_agrees_with_evaluation_on_odd_keys(cli: RunCli, key: str) -> None:
    """Keys evaluation refuses (a huge int, a lone surrogate) are refused by --explain too."""
    code, out, _ = cli(
        "eval",
        str(EXAMPLE),
        "checkout-canary",
        "-c",
        f"targetingKey={key}",
        "--explain",
        "--json",
    )
    plain, plain_out, _ = cli(
        "eval", str(EXAMPLE), "checkout-canary", "-c", f"targetingKey={key}", "--json"
    )
    assert (3, 3) == (code, plain)
    assert json.loads(plain_out)["error_code"] == "TARGETING_KEY_MISSING"
    assert "TARGETING_KEY_MISSING" in out
