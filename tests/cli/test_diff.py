"""diff: flags added, removed and modified, and the share of users each change moves."""

from __future__ import annotations

import json
from pathlib import Path

from flagkit._core.bucketing import bucket_of
from tests.cli.conftest import RunCli, WriteFlags, boolean_flag, rollout
from tests.conftest import EXAMPLE


def test_ramp_10_to_20_moves_users_onto_on_only(cli: RunCli, write_flags: WriteFlags) -> None:
    """A 10% -> 20% ramp moves exactly the users with bucket 1000..1999 onto `on`, none off."""
    old = write_flags({"ramp": boolean_flag(default=rollout(10))}, name="old.json")
    new = write_flags({"ramp": boolean_flag(default=rollout(20))}, name="new.json")
    code, out, _ = cli("diff", old, new, "--users", "5000", "--json")
    moved = sum(1000 <= bucket_of("ramp", f"user-{i}") < 2000 for i in range(5000))
    (flag,) = json.loads(out)["modified"]
    assert code == 0
    assert (flag["changed"], flag["fields"]) == (moved, ["default"])
    assert flag["moves"] == [
        {"variant": "on", "onto": moved / 5000, "off": 0.0},
        {"variant": "off", "onto": 0.0, "off": moved / 5000},
    ]


def test_diff_text_names_moves(cli: RunCli, write_flags: WriteFlags) -> None:
    """The text report says how many users move onto and off each variant."""
    old = write_flags({"ramp": boolean_flag(default=rollout(10))}, name="old.json")
    new = write_flags({"ramp": boolean_flag(default=rollout(20))}, name="new.json")
    _, out, _ = cli("diff", old, new, "--users", "5000")
    moved = sum(1000 <= bucket_of("ramp", f"user-{i}") < 2000 for i in range(5000))
    assert f"  moves {moved / 50:.2f}% of users onto `on`, 0.00% off it" in out.splitlines()


def test_diff_added_removed_and_metadata_only(cli: RunCli, write_flags: WriteFlags) -> None:
    """Added and removed flags are listed; a description change moves nobody."""
    old = write_flags({"a": boolean_flag(), "gone": boolean_flag()}, name="old.json")
    new = write_flags({"a": boolean_flag(description="x"), "b": boolean_flag()}, name="new.json")
    _, out, _ = cli("diff", old, new, "--json")
    report = json.loads(out)
    modified = [(m["flag"], m["fields"], m["impact"]) for m in report["modified"]]
    assert (report["added"], report["removed"], modified) == (
        ["b"],
        ["gone"],
        [("a", ["description"], 0.0)],
    )


def test_diff_follows_segments_and_prerequisites(cli: RunCli, write_flags: WriteFlags) -> None:
    """A changed segment changes the flags using it and the flags requiring those."""
    flags = {
        "vip-only": boolean_flag(
            rules=[{"when": [{"op": "in_segment", "values": ["vip"]}], "serve": "on"}]
        ),
        "child": boolean_flag(
            default="on",
            off_variant="off",
            prerequisites=[{"flag": "vip-only", "variants": ["on"]}],
        ),
    }
    old = write_flags(flags, {"vip": {"include": ["user-1"]}}, name="old.json")
    new = write_flags(flags, {"vip": {"include": ["user-1", "user-2"]}}, name="new.json")
    _, out, _ = cli("diff", old, new, "--users", "10", "--json")
    modified = [(m["flag"], m["via"], m["changed"]) for m in json.loads(out)["modified"]]
    assert modified == [
        ("child", ["prerequisite vip-only"], 1),
        ("vip-only", ["segment vip"], 1),
    ]


def test_fail_above_exits_4(cli: RunCli, write_flags: WriteFlags) -> None:
    """--fail-above exits 4 when an impact is above the threshold, 0 when not."""
    old = write_flags({"ramp": boolean_flag(default=rollout(10))}, name="old.json")
    new = write_flags({"ramp": boolean_flag(default=rollout(20))}, name="new.json")
    above = cli("diff", old, new, "--fail-above", "5")
    below = cli("diff", old, new, "--fail-above", "50")
    assert (above[0], below[0]) == (4, 0)
    assert "flags above 5% impact: ramp" in above[1]


def test_diff_over_a_context_file_at_a_time(cli: RunCli, tmp_path: Path) -> None:
    """--contexts and --at: the example's ramp step change measured on given users."""
    new = tmp_path / "new.yaml"
    new.write_text(EXAMPLE.read_text().replace("{on: 1, off: 99}", "{on: 5, off: 95}"))
    contexts = tmp_path / "users.jsonl"
    contexts.write_text("".join(json.dumps({"targetingKey": f"u{i}"}) + "\n" for i in range(400)))
    _, out, _ = cli(
        "diff", EXAMPLE, new, "--contexts", contexts, "--at", "2026-12-02T00:00:00Z", "--json"
    )
    moved = sum(100 <= bucket_of("search-ramp", f"u{i}") < 500 for i in range(400))
    report = json.loads(out)
    assert (report["users"], [(m["flag"], m["changed"]) for m in report["modified"]]) == (
        400,
        [("search-ramp", moved)],
    )


def test_diff_identical_files_and_bad_threshold(cli: RunCli) -> None:
    """Identical files have no changes; a threshold above 100 is a usage error."""
    code, out, _ = cli("diff", EXAMPLE, EXAMPLE)
    assert (code, out.splitlines()[-1]) == (0, "modified: -")
    assert cli("diff", EXAMPLE, EXAMPLE, "--fail-above", "120")[0] == 2


def test_diff_invalid_file_exits_1(cli: RunCli, tmp_path: Path) -> None:
    """An invalid NEW file exits 1 with its problems."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("flags: {a: {variants: {x: 1}, default: y}}\n")
    code, _, err = cli("diff", EXAMPLE, bad)
    assert (code, "unknown variant 'y'" in err) == (1, True)
