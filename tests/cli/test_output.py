"""Output: aligned tables, colour only on a terminal, JSON on every command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flagkit._cli.output import colour_enabled, render_table
from tests.cli.conftest import RunCli
from tests.conftest import EXAMPLE


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_aligns_and_right_aligns_numbers() -> None:
    """Text columns are left-aligned, numbers and percentages right-aligned."""
    table = render_table(["name", "users", "share"], [["a", 5, "5.00%"], ["long", 100, "95.00%"]])
    assert table.splitlines() == [
        "name  users   share",
        "a         5   5.00%",
        "long    100  95.00%",
    ]


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour is on for a terminal, off for a pipe and off with NO_COLOR."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal, pipe = colour_enabled(_Terminal()), colour_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert (terminal, pipe, colour_enabled(_Terminal())) == (True, False, False)


def test_colour_keeps_alignment() -> None:
    """Styled cells are padded before the escape codes are added."""
    table = render_table(
        ["severity", "code"],
        [["error", "FK101"], ["info", "FK304"]],
        colour=True,
        style_of={"error": "red"}.get,
    )
    assert table.splitlines()[1:] == ["\x1b[31merror   \x1b[0m  FK101", "info      FK304"]


def test_validate_json(cli: RunCli) -> None:
    """validate --json reports each file with its counts."""
    code, out, _ = cli("validate", EXAMPLE, "--json")
    assert (code, json.loads(out)) == (
        0,
        [
            {
                "file": str(EXAMPLE),
                "ok": True,
                "format": "native",
                "flags": 9,
                "segments": 1,
                "problems": [],
            }
        ],
    )


@pytest.mark.parametrize(
    "command",
    [
        ["validate", str(EXAMPLE)],
        ["eval", str(EXAMPLE), "pricing-test", "-k", "u1"],
        ["eval", str(EXAMPLE), "beta-banner", "--explain"],
        ["simulate", str(EXAMPLE), "pricing-test", "--users", "100"],
        ["diff", str(EXAMPLE), str(EXAMPLE)],
        ["lint", str(EXAMPLE), "--today", "2027-03-20"],
    ],
)
def test_no_escape_codes_when_piped(cli: RunCli, command: list[str]) -> None:
    """No command writes ANSI escape codes to a pipe."""
    _, out, _ = cli(*command)
    assert ("\x1b[" in out, bool(out)) == (False, True)


def test_lint_console_entry_point() -> None:
    """python -m flagkit lint --json runs as the installed command would."""
    done = subprocess.run(
        [sys.executable, "-m", "flagkit", "lint", str(EXAMPLE), "--today", "2027-03-20", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    codes = [finding["code"] for finding in json.loads(done.stdout)]
    assert (done.returncode, codes) == (0, ["FK102", "FK303", "FK302"])


def test_json_output_is_strict_json(cli: RunCli, tmp_path: Path) -> None:
    """NaN and infinities from contexts never reach --json output as bare tokens."""
    contexts = tmp_path / "odd.jsonl"
    contexts.write_text('{"targetingKey": "a"}\n{"targetingKey": NaN}\n')
    _, out, _ = cli("eval", str(EXAMPLE), "pricing-test", "--contexts", str(contexts), "--json")
    _, explained, _ = cli(
        "eval", str(EXAMPLE), "beta-banner", "-c", "country=NaN", "--json", "--explain"
    )
    for text in [*out.splitlines(), explained]:
        json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON output"))
