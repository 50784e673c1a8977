"""The three flagd reference implementations the differential test runs, each as a worker process.

- ``openfeature-provider-flagd==0.5.2`` (fractional v2), installed by the
  test extra, runs ``flagd_python_worker.py`` with this interpreter;
- ``openfeature-provider-flagd>=0.6`` (fractional v3), which cannot share an
  environment with 0.5.2: a second virtual environment is created on first
  use in the cache directory (``FLAGKIT_TEST_CACHE``, default
  ``~/.cache/flagkit-tests``, outside the clone);
- ``@openfeature/flagd-core`` under Node (fractional v2), installed with npm
  into the same cache directory.

Each worker answers one JSON line per request on stdin and stdout (see the
worker scripts). Without Node the Node reference is skipped with a message,
except under ``CI=true``, where its absence is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("FLAGKIT_TEST_CACHE", "~/.cache/flagkit-tests")).expanduser()
V3_REQUIREMENT = "openfeature-provider-flagd>=0.6,<0.7"
NODE_PACKAGE = "@openfeature/flagd-core@4"


class Worker:
    """A reference implementation in its own process, fed one request per line."""

    def __init__(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )

    def evaluate(self, document: Any, cases: list[dict[str, Any]]) -> list[list[Any]]:
        """Return ``[value, variant, reason, error_code]`` for each case over ``document``."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps({"document": document, "cases": cases}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} reference exited")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the {self.name} reference failed: {answer['error']}")
        results: list[list[Any]] = answer["results"]
        return results

    def close(self) -> None:
        """Stop the worker."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()


def _run(command: list[str], **options: Any) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=600, **options)


def python_v2() -> Worker:
    """Return openfeature-provider-flagd 0.5.2 (this environment's, from the test extra)."""
    return Worker("provider-0.5.2", [sys.executable, str(HERE / "flagd_python_worker.py")])


def v3_python() -> Path:
    """Return the interpreter of the environment holding openfeature-provider-flagd 0.6+.

    The environment is created on first use (it needs the package index).
    """
    venv = CACHE / "flagd-v3-venv"
    python = venv / "bin" / "python"
    probe = "import openfeature.contrib.tools.flagd.core.targeting.custom_ops as m; m.cbor2"
    ready = (
        python.exists()
        and subprocess.run([str(python), "-c", probe], capture_output=True, check=False).returncode
        == 0
    )
    if not ready:
        shutil.rmtree(venv, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(python), "-m", "pip", "install", "--quiet", V3_REQUIREMENT])
    return python


def python_v3() -> Worker:
    """Return openfeature-provider-flagd 0.6+ (fractional v3), in its own environment."""
    return Worker("provider-0.6", [str(v3_python()), str(HERE / "flagd_python_worker.py")])


def node() -> Worker:
    """Return @openfeature/flagd-core under Node, installing it on first use (skip: no Node)."""
    executable = shutil.which("node")
    npm = shutil.which("npm")
    if executable is None or npm is None:
        message = "Node.js (node and npm) is not installed: the @openfeature/flagd-core reference"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} is required under CI=true")
        pytest.skip(f"{message} cannot run here")
    prefix = CACHE / "node-flagd"
    if not (prefix / "node_modules" / "@openfeature" / "flagd-core" / "package.json").exists():
        prefix.mkdir(parents=True, exist_ok=True)
        _run([npm, "install", "--silent", "--prefix", str(prefix), NODE_PACKAGE])
    return Worker(
        "flagd-core (Node)",
        [executable, str(HERE / "flagd_node_worker.js")],
        env={"NODE_PATH": str(prefix / "node_modules")},
    )
