"""Helpers of the flagkit.testing tests: pytester, and a runner loading the plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SRC = Path(__file__).resolve().parents[2] / "src"

RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture
def run_pytest(pytester: pytest.Pytester) -> RunPytest:
    """Return a function running pytest in-process with the flagkit plugin loaded.

    ``-p no:flagkit`` keeps an installed entry point from registering the
    plugin a second time under its other name.
    """

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest(
            "-p", "no:flagkit", "-p", "flagkit.testing._plugin", "--strict-markers", *args
        )

    return run
