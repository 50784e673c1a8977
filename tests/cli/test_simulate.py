"""simulate: variant shares over synthetic users or a context file."""

from __future__ import annotations

import json
from pathlib import Path

from flagkit._core.bucketing import bucket_of
from tests.cli.conftest import RunCli, WriteFlags, boolean_flag, rollout
from tests.conftest import EXAMPLE


def _shares(out: str) -> dict[str, tuple[float | None, float]]:
    report = json.loads(out)
    return {v["variant"]: (v["expected"], v["observed"]) for v in report["variants"]}


def test_simulate_shares_follow_the_weights(cli: RunCli) -> None:
    """Observed shares of a 50/25/25 test are within 2 points of the weights."""
    code, out, _ = cli("simulate", EXAMPLE, "pricing-test", "--json")
    shares = _shares(out)
    assert code == 0
    assert {v: e for v, (e, _) in shares.items()} == {
        "control": 0.5,
        "treatment-a": 0.25,
        "treatment-b": 0.25,
    }
    assert all(abs(expected - observed) < 0.02 for expected, observed in shares.values())  # type: ignore[operator]


def test_simulate_counts_match_the_bucketing_formula(cli: RunCli) -> None:
    """The count of `on` is exactly the users user-0..N-1 whose bucket is below 1000."""
    _, out, _ = cli("simulate", EXAMPLE, "checkout-canary", "--users", "3000", "--json")
    on = sum(bucket_of("checkout-canary", f"user-{i}") < 1000 for i in range(3000))
    assert on == json.loads(out)["variants"][0]["count"]


def test_simulate_round_robin_attributes_and_rules(cli: RunCli) -> None:
    """--attr values cycle through every combination; rules are counted by name."""
    code, out, _ = cli(
        "simulate",
        EXAMPLE,
        "beta-banner",
        "--users",
        "600",
        "--attr",
        "country=NL,BE,DE",
        "--attr",
        "plan=pro,free",
        "--json",
    )
    report = json.loads(out)
    assert code == 0
    assert {r["step"]: r["count"] for r in report["decided_by"]} == {
        "rule benelux-pro": 200,
        "default": 400,
    }
    assert _shares(out)["on"] == (None, 200 / 600)


def test_simulate_seed_is_reproducible(cli: RunCli) -> None:
    """The same --seed gives the same result, another seed another one."""
    args = ("simulate", EXAMPLE, "pricing-test", "--users", "500", "--json")

    def run(seed: str) -> dict[str, object]:
        result = json.loads(cli(*args, "--seed", seed)[1])
        result.pop("at")  # the evaluation time, which moves between runs
        return dict(result)

    first, again, other = run("1"), run("1"), run("2")
    assert (first == again, first == other) == (True, False)


def test_simulate_at_a_ramp_step(cli: RunCli) -> None:
    """--at picks the ramp step: 10% expected during the second step."""
    _, out, _ = cli("simulate", EXAMPLE, "search-ramp", "--at", "2026-12-04T00:00:00Z", "--json")
    expected, observed = _shares(out)["on"]
    assert (expected, abs(observed - 0.10) < 0.02) == (0.10, True)


def test_simulate_spreads_other_bucketing_attributes(cli: RunCli) -> None:
    """Synthetic users get their own org.id, so a rollout by org.id has no errors."""
    _, out, _ = cli("simulate", EXAMPLE, "org-dashboard", "--users", "2000", "--json")
    shares = _shares(out)
    assert (set(shares), abs(shares["on"][1] - 0.25) < 0.03) == ({"on", "off"}, True)


def test_simulate_context_file_with_progress(cli: RunCli, tmp_path: Path) -> None:
    """A context file is evaluated line by line; --progress reports on stderr."""
    contexts = tmp_path / "users.jsonl"
    lines = [{"targetingKey": f"u{i}", "country": "NL", "plan": "pro"} for i in range(30)]
    contexts.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    code, out, err = cli(
        "simulate", EXAMPLE, "beta-banner", "--contexts", contexts, "--progress", "--json"
    )
    assert (code, json.loads(out)["users"], _shares(out)["on"][1]) == (0, 30, 1.0)
    assert "31 contexts read" in err
    assert "skipped 1 lines" in err


def test_simulate_text_table(cli: RunCli, write_flags: WriteFlags) -> None:
    """The text output is an aligned table without colour when piped."""
    path = write_flags({"f": boolean_flag(default=rollout(30))})
    code, out, _ = cli("simulate", path, "f", "--users", "1000")
    lines = out.splitlines()
    assert code == 0
    assert lines[2].split() == ["variant", "expected", "observed", "users"]
    assert lines[3].split()[:2] == ["on", "30.00%"]
    assert "\x1b[" not in out


def test_simulate_unknown_flag_and_bad_options(cli: RunCli) -> None:
    """An unknown flag, --users 0 or a malformed --attr exit 2."""
    codes = [
        cli("simulate", EXAMPLE, "nope")[0],
        cli("simulate", EXAMPLE, "pricing-test", "--users", "0")[0],
        cli("simulate", EXAMPLE, "pricing-test", "--attr", "plan")[0],
    ]
    assert codes == [2, 2, 2]
