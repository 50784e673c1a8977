"""Regression tests from the review of the CLI and the flagd formats."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import flagkit
from flagkit._cli import main
from tests.conftest import EXAMPLE


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_context_array_cannot_choose_a_fractional_bucket(tmp_path: Path) -> None:
    """An array in the context is a non-string bucketing value (null), not a bucket."""
    path = tmp_path / "f.json"
    path.write_text(
        json.dumps(
            {
                "flags": {
                    "f": {
                        "state": "ENABLED",
                        "variants": {"on": "on", "off": "off"},
                        "defaultVariant": "off",
                        "targeting": {"fractional": [{"var": "a"}, ["on", 50], ["off", 50]]},
                    }
                }
            }
        )
    )
    client = flagkit.Client.from_file(path, format="flagd")
    served = Counter(
        client.get_str("f", "?", {"a": ["on", 1000000], "targetingKey": f"u{i}"})
        for i in range(200)
    )
    assert {"off": 200} == dict(served)  # null targeting result: the default variant


@pytest.mark.parametrize("key", ["100000000000000000000000", "\udcff"])
def test_explain_agrees_with_evaluation_on_odd_keys(
    capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """Keys evaluation refuses (a huge int, a lone surrogate) are refused by --explain too."""
    code, out, _ = run(
        capsys,
        "eval",
        str(EXAMPLE),
        "checkout-canary",
        "-c",
        f"targetingKey={key}",
        "--explain",
        "--json",
    )
    plain, plain_out, _ = run(
        capsys, "eval", str(EXAMPLE), "checkout-canary", "-c", f"targetingKey={key}", "--json"
    )
    assert (3, 3) == (code, plain)
    assert json.loads(plain_out)["error_code"] == "TARGETING_KEY_MISSING"
    assert "TARGETING_KEY_MISSING" in out


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


def test_json_output_is_strict_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """NaN and infinities from contexts never reach --json output as bare tokens."""
    contexts = tmp_path / "odd.jsonl"
    contexts.write_text('{"targetingKey": "a"}\n{"targetingKey": NaN}\n')
    _, out, _ = run(
        capsys, "eval", str(EXAMPLE), "pricing-test", "--contexts", str(contexts), "--json"
    )
    _, explained, _ = run(
        capsys, "eval", str(EXAMPLE), "beta-banner", "-c", "country=NaN", "--json", "--explain"
    )
    for text in [*out.splitlines(), explained]:
        json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON output"))


def test_convert_json_and_exactness(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """convert --json reports everything; a loose comparison makes the conversion inexact (6)."""
    path = tmp_path / "f.json"
    path.write_text(
        json.dumps(
            {
                "flags": {
                    "exact": {
                        "state": "ENABLED",
                        "variants": {"on": True, "off": False},
                        "defaultVariant": "on",
                    },
                    "loose": {
                        "state": "ENABLED",
                        "variants": {"on": True, "off": False},
                        "defaultVariant": "off",
                        "targeting": {"if": [{"<": [{"var": "age"}, 18]}, "on", "off"]},
                    },
                }
            }
        )
    )
    code, out, _ = run(capsys, "convert", str(path), "--json")
    report = json.loads(out)
    assert 6 == code
    assert (False, ["exact", "loose"], []) == (
        report["exact"],
        report["converted"],
        report["problems"],
    )
    assert report["inexact"]
    assert "loose" in report["document"]["flags"]


def test_validate_json_has_every_key_on_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A failing file's JSON result has the same keys as a passing one."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"flags": {"a": {"variants": {"on": true}, "default": "x"}}}')
    _, out, _ = run(capsys, "validate", str(EXAMPLE), str(bad), "--json")
    good, broken = json.loads(out)
    assert set(good) == set(broken)
