"""flagkit convert, and the flagd format in validate and eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from tests.cli.conftest import RunCli
from tests.conftest import EXAMPLE_FLAGD
from tests.formats.flagd_cases import DOCUMENT

CONVERTIBLE: dict[str, Any] = {
    "flags": {
        "banner": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"in": [{"var": "country"}, ["NL", "BE"]]}, "on"]},
        },
        "ramp": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"fractional": [["on", 5], ["off", 95]]},
        },
    }
}


def _write(tmp_path: Path, document: Any, name: str = "flagd.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_full_conversion_exits_0_and_prints_native_json(cli: RunCli, tmp_path: Path) -> None:
    """A fully convertible document prints a valid native document and exits 0."""
    code, out, err = cli("convert", _write(tmp_path, CONVERTIBLE))
    assert 0 == code
    native = flagkit.Client.from_dict(json.loads(out))
    assert native.get_bool("banner", False, {"country": "NL"}) is True
    assert {"weights": {"on": 5, "off": 95}} == json.loads(out)["flags"]["ramp"]["rules"][0][
        "serve"
    ]["rollout"]
    assert err.endswith("converted 2 of 2 flags\n")


def test_partial_conversion_exits_6_and_explains(cli: RunCli, tmp_path: Path) -> None:
    """Flags without an exact native form are left out, one located line each; exit 6."""
    out_path = tmp_path / "native.yaml"
    code, out, err = cli("convert", _write(tmp_path, DOCUMENT), "--output", out_path)
    assert (6, "") == (code, out)
    lines = [line for line in err.splitlines() if "cannot convert" in line]
    assert 6 == len(lines)
    assert any("flags.strings.targeting.if[4].==" in line for line in lines)
    native = flagkit.Client.from_file(out_path)
    assert "split-even" in native.snapshot


def test_convert_refuses_native_and_invalid_input(cli: RunCli, tmp_path: Path) -> None:
    """A native file is a usage error (2); an invalid flagd file is exit 1."""
    native = _write(tmp_path, {"flags": {"f": {"variants": {"a": 1}, "default": "a"}}}, "n.json")
    assert 2 == cli("convert", native)[0]
    broken = {"flags": {"f": {"state": "ENABLED", "variants": {"a": 1, "b": "x"}}}}
    code, _, err = cli("convert", _write(tmp_path, broken))
    assert 1 == code
    assert "variants: all variants of a flag must have one type" in err


@pytest.mark.parametrize("fmt", ["flagd", "auto"])
def test_validate_and_eval_read_flagd(cli: RunCli, tmp_path: Path, fmt: str) -> None:
    """validate and eval take --format flagd (or auto) for flagd documents."""
    path = _write(tmp_path, CONVERTIBLE)
    code, out, _ = cli("validate", path, "--format", fmt)
    assert (0, f"{path}: ok (2 flags, flagd format)\n") == (code, out)
    code, out, _ = cli("eval", path, "banner", "-c", "country=BE", "--format", fmt, "--json")
    assert (0, True, "TARGETING_MATCH") == (
        code,
        json.loads(out)["value"],
        json.loads(out)["reason"],
    )
    code, out, _ = cli("eval", path, "banner", "-c", "country=BE", "--format", fmt, "--explain")
    assert (0, True) == (code, "default: JSON Logic targeting serves on" in out)


def test_syntax_option_names_the_syntax(cli: RunCli, tmp_path: Path) -> None:
    """--syntax tells the parser the syntax when the suffix does not."""
    path = tmp_path / "flags.txt"
    path.write_text('{"flags": {"f": {"variants": {"a": 1}, "default": "a"}}}', encoding="utf-8")
    assert 0 == cli("validate", path, "--syntax", "json")[0]
    assert 0 == cli("validate", path, "--syntax", "json", "--format", "auto")[0]


def test_example_file_converts_completely(cli: RunCli, tmp_path: Path) -> None:
    """The example flagd.json converts to the native format without loss (exit 0)."""
    code, _, _ = cli("convert", str(EXAMPLE_FLAGD), "--output", tmp_path / "native.json")
    assert 0 == code
    assert "new-checkout" in flagkit.Client.from_file(tmp_path / "native.json").snapshot


def test_convert_json_and_exactness(cli: RunCli, tmp_path: Path) -> None:
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
    code, out, _ = cli("convert", str(path), "--json")
    report = json.loads(out)
    assert 6 == code
    assert (False, ["exact", "loose"], []) == (
        report["exact"],
        report["converted"],
        report["problems"],
    )
    assert report["inexact"]
    assert "loose" in report["document"]["flags"]
