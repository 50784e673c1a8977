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
    assert {"flagkit", "floor", "json.loads"} == set(results["loads"]["1000"])
    assert "| case | flagkit | floor |" in (tmp_path / "results.md").read_text()


def test_network_guard_refuses_and_records_the_sdk() -> None:
    """A connection attempt under the guard raises and names the active SDK."""
    script = (
        "import socket, sys\n"
        f"sys.path.insert(0, {str(RUN.parents[1])!r})\n"
        "from peers.netguard import NetworkAttemptError, guard\n"
        "guard.install()\n"
        "guard.label = 'some-sdk'\n"
        "for attempt in (lambda: socket.create_connection(('example.com', 443)),\n"
        "                lambda: socket.getaddrinfo('example.com', 443),\n"
        "                lambda: socket.socket().connect(('127.0.0.1', 9))):\n"
        "    try:\n"
        "        attempt()\n"
        "    except NetworkAttemptError:\n"
        "        pass\n"
        "print(sorted({(a['sdk'], a['operation']) for a in guard.attempts}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )

    expected = [
        ("some-sdk", "create_connection"),
        ("some-sdk", "getaddrinfo"),
        ("some-sdk", "socket.connect"),
    ]
    assert str(expected) == completed.stdout.strip()
