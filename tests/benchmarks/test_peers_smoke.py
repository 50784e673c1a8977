"""Keep the peer benchmark harness runnable: its smoke mode runs in the dev env."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "peers" / "run.py"


def test_smoke_mode_measures_flagkit_and_the_floor(tmp_path: Path) -> None:
    """The smoke run exits 0, answers correctly and writes both result files."""
    completed = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["mode"] == "smoke"
    assert results["network_attempts"] == []
    assert results["unavailable"] == {}
    for by_sdk in results["calls"].values():
        assert {"flagkit", "floor"} == set(by_sdk)
        assert all(result["correctness"]["ok"] for result in by_sdk.values())
    assert {"flagkit", "floor"} == set(results["loads"]["1000"])
    assert "| case | flagkit | floor |" in (tmp_path / "results.md").read_text()
