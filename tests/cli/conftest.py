"""Helpers of the CLI tests: run a command, write a flag file."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from flagkit._cli import main

RunCli = Callable[..., tuple[int, str, str]]
WriteFlags = Callable[..., Path]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Return a function running ``flagkit ARGS`` in-process: (exit code, stdout, stderr)."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def write_flags(tmp_path: Path) -> WriteFlags:
    """Return a function writing a flag document to a JSON file and returning its path."""

    def write(
        flags: Mapping[str, Any],
        segments: Mapping[str, Any] | None = None,
        name: str = "flags.json",
    ) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"flags": dict(flags), "segments": dict(segments or {})}))
        return path

    return write


def rollout(on: float, **extra: Any) -> dict[str, Any]:
    """Return an on/off rollout serve with ``on`` percent on."""
    return {"rollout": {"weights": {"on": on, "off": 100 - on}, **extra}}


def boolean_flag(**fields: Any) -> dict[str, Any]:
    """Return an on/off flag definition (default off) updated with ``fields``."""
    return {"variants": {"on": True, "off": False}, "default": "off", **fields}
