"""lint: one test per finding code, the exit codes, and the JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import RunCli, WriteFlags, boolean_flag, rollout
from tests.conftest import EXAMPLE

TODAY = "2026-06-01"


def _findings(cli: RunCli, path: Path, *options: str) -> list[tuple[str, str, str]]:
    _, out, _ = cli("lint", path, "--today", TODAY, "--json", *options)
    return [(f["code"], f["severity"], f["path"]) for f in json.loads(out)]


def _clean(**fields: Any) -> dict[str, Any]:
    """Return an on/off flag that serves both variants, updated with ``fields``."""
    return boolean_flag(default=rollout(50), **fields)


def _rules(*conditions: list[dict[str, Any]]) -> dict[str, Any]:
    return boolean_flag(rules=[{"when": when, "serve": "on"} for when in conditions])


COUNTRY_NL = {"attribute": "country", "op": "equals", "value": "NL"}
PLAN_PRO = {"attribute": "plan", "op": "equals", "value": "pro"}


def test_fk101_expired(cli: RunCli, write_flags: WriteFlags) -> None:
    """A flag whose expiry date has passed is an error."""
    path = write_flags({"old": _clean(expires="2026-05-31")})
    assert _findings(cli, path) == [("FK101", "error", "flags.old.expires")]


def test_fk102_expires_soon(cli: RunCli, write_flags: WriteFlags) -> None:
    """A flag expiring within --expiry-warning-days is a warning; beyond it, nothing."""
    path = write_flags({"soon": _clean(expires="2026-06-10")})
    assert _findings(cli, path) == [("FK102", "warning", "flags.soon.expires")]
    assert _findings(cli, path, "--expiry-warning-days", "5") == []


def test_fk201_identical_rules(cli: RunCli, write_flags: WriteFlags) -> None:
    """A rule with the same conditions as an earlier one can never match."""
    path = write_flags({"f": _rules([COUNTRY_NL, PLAN_PRO], [PLAN_PRO, COUNTRY_NL])})
    assert _findings(cli, path) == [("FK201", "warning", "flags.f.rules[1]")]


def test_fk201_superset_after_subset(cli: RunCli, write_flags: WriteFlags) -> None:
    """A rule with more (or narrower) conditions after a broader rule can never match."""
    broad = {"attribute": "country", "op": "in", "values": ["NL", "BE"]}
    path = write_flags({"f": _rules([broad], [COUNTRY_NL, PLAN_PRO], [PLAN_PRO])})
    assert _findings(cli, path) == [("FK201", "warning", "flags.f.rules[1]")]


def test_fk201_earlier_rule_without_restriction(cli: RunCli, write_flags: WriteFlags) -> None:
    """After `country exists`, any rule testing country can never match."""
    exists = {"attribute": "country", "op": "exists"}
    negated = {"attribute": "country", "op": "not_in", "values": ["DE"]}
    path = write_flags({"f": _rules([exists], [negated])})
    assert _findings(cli, path) == [("FK201", "warning", "flags.f.rules[1]")]


def test_fk201_not_reported_for_reachable_rules(cli: RunCli, write_flags: WriteFlags) -> None:
    """Different attributes, negations and segment lists do not shadow each other."""
    segment = {"op": "in_segment", "values": ["a"]}
    path = write_flags(
        {
            "f": _rules(
                [PLAN_PRO],
                [COUNTRY_NL],
                [{**PLAN_PRO, "negate": True}],
                [{"op": "in_segment", "values": ["a", "b"]}],
                [segment],
            )
        },
        {"a": {"include": ["x"]}, "b": {"include": ["y"]}},
    )
    assert _findings(cli, path) == [("FK201", "warning", "flags.f.rules[4]")]


def test_fk301_unused_segment(cli: RunCli, write_flags: WriteFlags) -> None:
    """A segment no flag uses is reported."""
    path = write_flags({"f": _clean()}, {"nobody": {"include": ["x"]}})
    assert _findings(cli, path) == [("FK301", "warning", "segments.nobody")]


def test_fk302_unused_variant(cli: RunCli, write_flags: WriteFlags) -> None:
    """A variant nothing serves is reported (info); one a prerequisite names is used."""
    path = write_flags(
        {
            "f": {"variants": {"a": 1, "b": 2, "c": 3}, "default": "a"},
            "g": boolean_flag(prerequisites=[{"flag": "f", "variants": ["b"]}], off_variant="off"),
        }
    )
    assert _findings(cli, path) == [
        ("FK302", "info", "flags.f.variants.c"),
        ("FK302", "info", "flags.g.variants.on"),
    ]


def test_fk303_rollout_stuck(cli: RunCli, write_flags: WriteFlags) -> None:
    """A rollout at 100% (now and in every later step) could be a fixed variant."""
    finished = rollout(0, schedule=[{"at": "2026-01-01T00:00:00Z", "weights": {"on": 100}}])
    pending = rollout(0, schedule=[{"at": "2027-01-01T00:00:00Z", "weights": {"on": 100}}])
    path = write_flags(
        {
            "all-on": boolean_flag(default=rollout(100)),
            "finished": boolean_flag(default=finished),
            "pending": boolean_flag(default=pending),
        }
    )
    assert _findings(cli, path) == [
        ("FK303", "warning", "flags.all-on.default.rollout"),
        ("FK302", "info", "flags.all-on.variants.off"),
        ("FK303", "warning", "flags.finished.default.rollout"),
    ]


def test_fk304_disabled_without_off_variant(cli: RunCli, write_flags: WriteFlags) -> None:
    """A disabled flag without off_variant is reported as info."""
    path = write_flags({"f": boolean_flag(enabled=False, rules=[])})
    assert _findings(cli, path) == [
        ("FK302", "info", "flags.f.variants.on"),
        ("FK304", "info", "flags.f.off_variant"),
    ]


def test_fk401_flag_not_in_code(cli: RunCli, write_flags: WriteFlags, tmp_path: Path) -> None:
    """--code reports flags no source file quotes; .git, binary and the flag file are skipped."""
    code_dir = tmp_path / "app"
    (code_dir / ".git").mkdir(parents=True)
    (code_dir / "main.py").write_text('client.get_bool("used", False)\n')
    (code_dir / "ui.ts").write_text("flags.get(`templated`)\n")
    (code_dir / ".git" / "HEAD").write_text('"in-git"\n')
    (code_dir / "blob.bin").write_bytes(b'\0"in-binary"')
    path = write_flags({key: _clean() for key in ["used", "templated", "in-git", "in-binary"]})
    moved = code_dir / "flags.json"
    moved.write_text(path.read_text())
    assert _findings(cli, moved, "--code", str(code_dir)) == [
        ("FK401", "warning", "flags.in-git"),
        ("FK401", "warning", "flags.in-binary"),
    ]


def test_exit_codes(cli: RunCli, write_flags: WriteFlags) -> None:
    """Errors exit 1; warnings exit 0, or 5 with --strict; info alone exits 0."""
    expired = write_flags({"f": _clean(expires="2020-01-01")}, name="a.json")
    warned = write_flags({"f": _clean()}, {"s": {"include": ["x"]}}, name="b.json")
    info = write_flags({"f": boolean_flag(enabled=False)}, name="c.json")
    codes = [
        cli("lint", expired, "--today", TODAY)[0],
        cli("lint", warned, "--today", TODAY)[0],
        cli("lint", warned, "--today", TODAY, "--strict")[0],
        cli("lint", info, "--today", TODAY, "--strict")[0],
    ]
    assert codes == [1, 0, 5, 0]


def test_lint_json_fields(cli: RunCli, write_flags: WriteFlags) -> None:
    """Each JSON finding has code, severity, file, flag, path and message."""
    path = write_flags({"old": _clean(expires="2026-05-31")})
    _, out, _ = cli("lint", path, "--today", TODAY, "--json")
    assert json.loads(out) == [
        {
            "code": "FK101",
            "severity": "error",
            "file": str(path),
            "flag": "old",
            "path": "flags.old.expires",
            "message": "expired on 2026-05-31",
        }
    ]


def test_lint_text_and_usage_errors(cli: RunCli) -> None:
    """The text report is a table; a bad --today or --code is a usage error."""
    code, out, _ = cli("lint", EXAMPLE, "--today", "2027-03-20")
    assert (code, out.splitlines()[0]) == (0, f"{EXAMPLE}: 2 warnings, 1 info")
    assert out.splitlines()[2].split() == ["severity", "code", "where", "message"]
    assert cli("lint", EXAMPLE, "--today", "soon")[0] == 2
    assert cli("lint", EXAMPLE, "--code", "/no/such/dir")[0] == 2


def test_declared_flags_are_checked_against_the_file(
    cli: RunCli, write_flags: WriteFlags, tmp_path: Path
) -> None:
    """FK402: a Flag declared in code that the file lacks; FK403: a flag nothing declares."""
    path = write_flags({"declared": _clean(), "forgotten": _clean()})
    code_dir = tmp_path / "app"
    code_dir.mkdir()
    (code_dir / "flags.py").write_text(
        "import flagkit\n"
        "from flagkit import Flag\n"
        "DECLARED = Flag('declared', default=False)\n"
        "TYPO = flagkit.Flag(key='declard', default=False)\n"
        "# 'forgotten' is quoted here, so FK401 is quiet about it\n"
    )
    findings = _findings(cli, path, "--code", str(code_dir))
    assert [
        ("FK402", "error", "flags.declard"),
        ("FK403", "warning", "flags.forgotten"),
    ] == findings
    code, out, _ = cli("lint", path, "--today", TODAY, "--code", str(code_dir))
    assert 1 == code  # a declared flag the file lacks is an error
    assert "flags.py:4 declares flag 'declard'" in out


def test_code_without_declarations_gets_no_fk403(
    cli: RunCli, write_flags: WriteFlags, tmp_path: Path
) -> None:
    """A code base that declares no Flag is not told that nothing declares its flags."""
    path = write_flags({"used": _clean()})
    code_dir = tmp_path / "app"
    code_dir.mkdir()
    (code_dir / "app.py").write_text("client.get_bool('used', False)\n")
    assert [] == _findings(cli, path, "--code", str(code_dir))
