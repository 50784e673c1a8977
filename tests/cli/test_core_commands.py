"""The CLI contract: validate, eval (single and batch) and schema, with exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flagkit._cli import main
from tests.conftest import EXAMPLE


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """A valid file exits 0 and says so."""
    code, out, _ = run(capsys, "validate", str(EXAMPLE))
    assert (0, f"{EXAMPLE}: ok") == (code, out.split(" (")[0])


def test_validate_invalid_lists_each_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An invalid file exits 1 with one located problem per stderr line."""
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "flags": {
                    "a": {"variants": {"on": True}, "default": "nope"},
                    "b": {"variants": {"on": True}, "default": "on", "off_variant": "x"},
                }
            }
        )
    )
    code, out, err = run(capsys, "validate", str(EXAMPLE), str(bad))
    lines = err.strip().splitlines()
    assert code == 1
    assert f"{EXAMPLE}: ok" in out
    assert lines == [
        f"{bad}: flag 'a': default: unknown variant 'nope' (variants: on)",
        f"{bad}: flag 'b': off_variant: unknown variant 'x' (variants: on)",
    ]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad command line exits 2."""
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    code, _, err = run(capsys, "eval", str(EXAMPLE), "beta-banner", "--context", "novalue")
    assert (code, "KEY=VALUE" in err) == (2, True)


def test_eval_json(capsys: pytest.CaptureFixture[str]) -> None:
    """eval --json prints value, variant, reason and a null error code."""
    code, out, _ = run(
        capsys, "eval", str(EXAMPLE), "beta-banner", "-c", "country=NL", "-c", "plan=pro", "--json"
    )
    result = json.loads(out)
    assert code == 0
    assert {
        "value": True,
        "variant": "on",
        "reason": "TARGETING_MATCH",
        "error_code": None,
    }.items() <= result.items()


def test_eval_text_and_nested_context(capsys: pytest.CaptureFixture[str]) -> None:
    """Dotted --context keys nest; the text output shows the bucket."""
    code, out, _ = run(
        capsys, "eval", str(EXAMPLE), "org-dashboard", "-k", "u1", "-c", "org.id=acme"
    )
    assert code == 0
    assert "reason:  SPLIT" in out
    assert "bucket:" in out


def test_eval_error_exits_3_and_still_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """An evaluation error exits 3 with the details printed."""
    code, out, _ = run(capsys, "eval", str(EXAMPLE), "no-such-flag", "--json")
    assert (code, json.loads(out)["error_code"]) == (3, "FLAG_NOT_FOUND")


def test_eval_invalid_file_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """eval on an invalid file exits 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("flags: {a: {variants: {x: 1}, default: y}}\n")
    code, _, err = run(capsys, "eval", str(bad), "a")
    assert (code, "unknown variant 'y'" in err) == (1, True)


def test_eval_batch_keeps_order(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--contexts gives one result line per input line, in order."""
    contexts = tmp_path / "users.jsonl"
    keys = [f"user-{i}" for i in range(50)]
    contexts.write_text(
        "\n".join(json.dumps({"targetingKey": k, "plan": "pro"}) for k in keys) + "\n"
    )
    code, out, _ = run(
        capsys, "eval", str(EXAMPLE), "pricing-test", "--contexts", str(contexts), "--json"
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert keys == [r["targetingKey"] for r in rows]
    assert {r["variant"] for r in rows} <= {"control", "treatment-a", "treatment-b"}


def test_eval_batch_bad_line_is_an_error_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A malformed context line yields a PARSE_ERROR row and exit 3."""
    contexts = tmp_path / "users.jsonl"
    contexts.write_text('{"targetingKey": "a"}\nnot json\n[1]\n')
    code, out, _ = run(
        capsys, "eval", str(EXAMPLE), "pricing-test", "--contexts", str(contexts), "--json"
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 3
    assert [r["error_code"] for r in rows] == [None, "PARSE_ERROR", "PARSE_ERROR"]


def test_eval_at_a_given_time(capsys: pytest.CaptureFixture[str]) -> None:
    """--at evaluates a scheduled ramp at that moment."""

    def values_at(when: str) -> set[object]:
        outputs = [
            run(capsys, "eval", str(EXAMPLE), "search-ramp", "-k", f"u{i}", "--at", when, "--json")
            for i in range(20)
        ]
        return {json.loads(out)["value"] for _, out, _ in outputs}

    assert values_at("2026-11-01T00:00:00Z") == {False}
    assert values_at("2027-01-01T00:00:00Z") == {True}
    code, _, _ = run(capsys, "eval", str(EXAMPLE), "search-ramp", "--at", "someday")
    assert code == 2


def test_schema_command_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """schema prints a JSON Schema document."""
    code, out, _ = run(capsys, "schema")
    assert (code, json.loads(out)["title"]) == (0, "flagkit flag document")


def test_console_entry_point_runs() -> None:
    """python -m flagkit works as an installed command would."""
    done = subprocess.run(
        [sys.executable, "-m", "flagkit", "eval", str(EXAMPLE), "kill-switch", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, json.loads(done.stdout)["reason"]) == (0, "DISABLED")


def test_a_context_file_that_is_not_utf8_gives_error_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An undecodable line is a PARSE_ERROR row, not a traceback."""
    contexts = tmp_path / "bad.jsonl"
    contexts.write_bytes(b'{"targetingKey": "a"}\n\xff\n{"targetingKey": "b"}\n')
    code, out, _ = run(
        capsys, "eval", str(EXAMPLE), "pricing-test", "--contexts", str(contexts), "--json"
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert 3 == code
    assert [None, "PARSE_ERROR", None] == [r["error_code"] for r in rows]


def test_validate_json_has_every_key_on_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A failing file's JSON result has the same keys as a passing one."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"flags": {"a": {"variants": {"on": true}, "default": "x"}}}')
    _, out, _ = run(capsys, "validate", str(EXAMPLE), str(bad), "--json")
    good, broken = json.loads(out)
    assert set(good) == set(broken)


def test_validate_reports_a_huge_repetition_as_a_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """a{99999999999} overflows the regex engine: a located problem, not a traceback."""
    bad = tmp_path / "bad.json"
    condition = {"attribute": "a", "op": "matches", "value": "a{99999999999}"}
    flag = {"variants": {"on": True}, "default": "on", "rules": [{"when": [condition]}]}
    flag["rules"][0]["serve"] = "on"
    bad.write_text(json.dumps({"flags": {"f": flag}}))
    code, _, err = run(capsys, "validate", str(bad))
    assert (
        1,
        [
            f"{bad}: flag 'f': rules[0].when[0].value: pattern 'a{{99999999999}}' refused: "
            "invalid regular expression: the repetition number is too large"
        ],
    ) == (
        code,
        err.strip().splitlines(),
    )
