"""guard simulate: a guard's false-alarm rate and time to detection, from its flag file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flagkit._client.simulation import Rollout, error_outcome, simulate
from tests.cli.conftest import RunCli, WriteFlags, boolean_flag, rollout

ERRORS = {"metric": "error_rate", "effect": 0.02}


def _guarded(on: float = 50, **guard: Any) -> dict[str, Any]:
    settings = {"control": "off", "metrics": [ERRORS], "min_sample": 100, **guard}
    return boolean_flag(default=rollout(on, guard=settings))


def test_simulate_reports_false_alarms_and_detection(cli: RunCli, write_flags: WriteFlags) -> None:
    """The JSON report matches the simulation of the flag's own guard, seed for seed."""
    path = write_flags({"canary": _guarded(alpha=0.1)})
    code, out, _ = cli(
        "guard", "simulate", path, "canary", "--baseline-error", "0.02", "--effect", "0.04",
        "--users", "3000", "--runs", "40", "--seed", "7", "--rate", "100", "--json",
    )  # fmt: skip
    report = json.loads(out)
    same, worse = report["cases"]
    settings = {"effect": 0.02, "alpha": 0.1, "min_sample": 100, "share": 0.5}
    expected_same, _ = simulate(
        Rollout(error_outcome(0.02, 0.02), users=3000, control_share=0.5, naive=False, **settings),
        40,
        7,
    )
    expected_worse, _ = simulate(
        Rollout(error_outcome(0.02, 0.06), users=3000, control_share=0.5, naive=False, **settings),
        40,
        8,
    )
    assert 0 == code
    assert ("canary", "off", "on", 0.5, 0.1) == (
        report["flag"],
        report["control"],
        report["treatment"],
        report["share"],
        report["alpha"],
    )
    assert (expected_same.trips, expected_worse.trips) == (same["trips"], worse["trips"])
    assert worse["rate"] >= 0.9
    assert expected_worse.median_treated == worse["median_treated_users"]
    assert worse["median_users"] / 100 == worse["median_seconds"]


def test_simulate_prints_a_table(cli: RunCli, write_flags: WriteFlags) -> None:
    """Without --json: a table of both cases and a one-line summary."""
    path = write_flags({"canary": _guarded(on=20)})
    code, out, _ = cli(
        "guard", "simulate", path, "canary", "--baseline-error", "0.01", "--effect", "0.05",
        "--users", "2000", "--runs", "10",
    )  # fmt: skip
    assert 0 == code
    assert "'on' 20.00% of them" in out
    assert "no regression (0.01 both)" in out
    assert "regression 0.01 -> 0.06" in out
    assert "false-alarm rate" in out


def test_simulate_explains_what_it_cannot_do(cli: RunCli, write_flags: WriteFlags) -> None:
    """No guard, no error metric, no users in an arm, no such flag: exit 2 with a reason."""
    latency_only = _guarded(metrics=[{"metric": "latency", "effect": 0.05}])
    path = write_flags({"plain": boolean_flag(), "slow": latency_only, "dark": _guarded(on=0)})
    base = ["guard", "simulate", path]
    options = ["--baseline-error", "0.01", "--effect", "0.01", "--runs", "1", "--users", "10"]
    cases = {
        "plain": "has no guarded rollout",
        "slow": "watches no error_rate",
        "dark": "gets no users at that time",
        "ghost": "no flag 'ghost'",
    }
    for flag, message in cases.items():
        code, _, err = cli(*base, flag, *options)
        assert (2, True) == (code, message in err), (flag, err)
    code, _, err = cli(
        *base, "dark", "--baseline-error", "0.99", "--effect", "0.5", "--share", "0.5"
    )
    assert 2 == code
    assert "must be a rate between 0 and 1" in err
    with pytest.raises(SystemExit) as info:
        cli(*base, "dark", "--baseline-error", "2", "--effect", "0.1")
    assert 2 == info.value.code
