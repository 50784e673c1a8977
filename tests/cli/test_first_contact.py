"""What a newcomer meets first: init, --version, a bare ``flagkit``, help texts, hints, order."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import flagkit
from flagkit._cli import build_parser
from tests.cli.conftest import RunCli
from tests.conftest import EXAMPLE, EXAMPLE_FLAGD


def test_version_prints_the_version(cli: RunCli) -> None:
    """``flagkit --version`` prints ``flagkit X.Y.Z`` and exits 0 (it was a usage error)."""
    with pytest.raises(SystemExit) as exit_info:
        cli("--version")
    assert 0 == exit_info.value.code
    done = subprocess.run(
        [sys.executable, "-m", "flagkit", "--version"], capture_output=True, text=True, check=False
    )
    assert (0, f"flagkit {flagkit.__version__}\n") == (done.returncode, done.stdout)


def test_a_bare_flagkit_prints_the_help(cli: RunCli) -> None:
    """No command: the help, listing every command, on stdout, exit 0."""
    code, out, err = cli()
    assert (0, "") == (code, err)
    assert out.startswith("usage: flagkit")
    for command in ("init", "validate", "eval", "simulate", "diff", "lint", "convert"):
        assert f"    {command} " in out


def test_every_positional_argument_has_help() -> None:
    """FILE, FLAG, OLD, NEW, DIR: each says what it is in ``--help``."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.metavar}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not action.option_strings and not action.help
    ]
    assert [] == missing


def test_targeting_key_missing_hints_at_the_option(cli: RunCli) -> None:
    """A rollout evaluated without a key says how to pass one (-k/--targeting-key)."""
    code, out, _ = cli("eval", EXAMPLE, "checkout-canary")
    assert 3 == code
    assert "TARGETING_KEY_MISSING" in out
    assert "hint:    this flag buckets users: pass one with -k/--targeting-key KEY" in out
    code, out, _ = cli("eval", EXAMPLE, "checkout-canary", "--explain")
    assert 3 == code
    assert "hint: this flag buckets users: pass one with -k/--targeting-key KEY" in out


def test_an_unknown_flag_names_the_near_matches(cli: RunCli) -> None:
    """``eval`` of a mistyped key says which keys were probably meant."""
    code, out, err = cli("eval", EXAMPLE, "beta-baner")
    assert 3 == code
    assert "FLAG_NOT_FOUND: no such flag; did you mean 'beta-banner'?" in out
    assert "" == err  # the library's log line does not repeat it on the terminal


def test_validate_lists_problems_in_file_order(cli: RunCli, tmp_path: Path) -> None:
    """A cross-reference problem in the first flag comes before a structural one in the second."""
    path = tmp_path / "flags.yaml"
    path.write_text(
        "flags:\n"
        "  a:\n"
        "    variants: {on: true, off: false}\n"
        "    default: missing-variant\n"
        "  b:\n"
        "    variants: {on: true, off: false}\n"
        "    default: on\n"
        "    bogus: 1\n"
        "  c:\n"
        "    variants: {on: true, off: false}\n"
        "    default: nope\n"
    )
    code, _, err = cli("validate", path)
    assert 1 == code
    flags = [line.split("flag '")[1][0] for line in err.splitlines()]
    assert ["a", "b", "c"] == flags
    code, out, _ = cli("validate", path, "--json")
    problems = json.loads(out)[0]["problems"]
    assert ["a", "b", "c"] == [p.split("flag '")[1][0] for p in problems]


def test_init_writes_the_starter_file_and_never_overwrites_by_accident(
    cli: RunCli, tmp_path: Path
) -> None:
    """``flagkit init`` writes the shipped example; again, it refuses; --force replaces it."""
    code, out, _ = cli("init", tmp_path)
    written = tmp_path / "flags.yaml"
    assert (0, EXAMPLE.read_text("utf-8")) == (code, written.read_text("utf-8"))
    assert f"flagkit eval {written} pricing-test" in out
    written.write_text("mine")
    code, _, err = cli("init", tmp_path)
    assert (1, "mine") == (code, written.read_text())
    assert "exists; pass --force" in err
    assert 0 == cli("init", tmp_path, "--force")[0]
    assert EXAMPLE.read_text("utf-8") == written.read_text("utf-8")
    assert 0 == cli("init", tmp_path, "--format", "flagd")[0]
    assert EXAMPLE_FLAGD.read_text("utf-8") == (tmp_path / "flagd.json").read_text("utf-8")
    assert 0 == cli("eval", written, "pricing-test", "-k", "user-1")[0]
